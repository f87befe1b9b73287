import {
  DEFAULT_STAGE_BUDGETS,
  filesystemBudget,
  SCALED_BUDGET_FLOOR_MS,
  scaleBudgets,
  stageBudgets,
} from './budgets';

const MINUTE = 60_000;
const GiB = 1024 * 1024 * 1024;

describe('stage budgets', () => {
  it('keeps real-hardware budgets as they are', () => {
    expect(scaleBudgets(DEFAULT_STAGE_BUDGETS, 1)).toEqual(DEFAULT_STAGE_BUDGETS);
    expect(scaleBudgets(stageBudgets({ verify: 1234 }))).toEqual({ ...DEFAULT_STAGE_BUDGETS, verify: 1234 });
  });

  it('shrinks budgets by a simulator speed factor, down to the floor', () => {
    const scaled = scaleBudgets(DEFAULT_STAGE_BUDGETS, 20);
    expect(scaled.verify).toBe((15 * MINUTE) / 20); // 45 s
    expect(scaled['send-ibss']).toBe(SCALED_BUDGET_FLOOR_MS); // 3 s would be below the floor
    expect(scaleBudgets(DEFAULT_STAGE_BUDGETS, 1000).prepare).toBe(SCALED_BUDGET_FLOOR_MS);
  });

  it('never raises a budget that was already below the floor', () => {
    expect(scaleBudgets(stageBudgets({ verify: 5_000 }), 60).verify).toBe(5_000);
  });

  it('grows the filesystem budget with the image at 5 MB/s of device time', () => {
    expect(filesystemBudget(1 * GiB, 20 * MINUTE)).toBe(20 * MINUTE);
    expect(filesystemBudget(10 * GiB, 20 * MINUTE)).toBe(2048 * 1000);
    expect(filesystemBudget(10 * GiB, MINUTE, 10)).toBe(204_800);
    expect(filesystemBudget(10 * GiB, MINUTE, 1000)).toBe(MINUTE);
  });
});
