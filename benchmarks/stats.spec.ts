import { mean, percentile, verdict } from './stats';

describe('percentile (nearest rank)', () => {
  const samples = [15, 20, 35, 40, 50];

  it('picks the sample at rank ceil(p/100 × n)', () => {
    expect(percentile(samples, 5)).toBe(15);
    expect(percentile(samples, 30)).toBe(20);
    expect(percentile(samples, 40)).toBe(20);
    expect(percentile(samples, 50)).toBe(35);
    expect(percentile(samples, 100)).toBe(50);
  });

  it('does not depend on the order of the samples', () => {
    expect(percentile([50, 15, 40, 35, 20], 50)).toBe(35);
  });

  it('p99 of 64 samples is the largest (rank 64)', () => {
    const many = Array.from({ length: 64 }, (_, i) => i + 1);
    expect(percentile(many, 99)).toBe(64);
    expect(percentile(many, 0)).toBe(1);
  });

  it('is NaN without samples and refuses a percentile outside 0–100', () => {
    expect(percentile([], 50)).toBeNaN();
    expect(() => percentile(samples, 101)).toThrow(RangeError);
  });
});

describe('mean and verdict', () => {
  it('averages, NaN for nothing', () => {
    expect(mean([1, 2, 6])).toBe(3);
    expect(mean([])).toBeNaN();
  });

  it('says whether a target was met', () => {
    expect(verdict(true)).toBe('met');
    expect(verdict(false)).toBe('NOT MET');
  });
});
