import { fairShares } from './bandwidth';

describe('fairShares (max-min fair, water-filling)', () => {
  it('splits a USB 2.0 controller evenly among high-speed links', () => {
    expect(fairShares(480, Array(16).fill(480))).toEqual(Array(16).fill(30));
  });

  it('gives a full-speed link its 12 and the rest to the others', () => {
    expect(fairShares(480, [12, 480, 480])).toEqual([12, 234, 234]);
  });

  it('never hands out more than a link can take', () => {
    expect(fairShares(480, [12])).toEqual([12]);
    expect(fairShares(480, [12, 12])).toEqual([12, 12]);
  });
});
