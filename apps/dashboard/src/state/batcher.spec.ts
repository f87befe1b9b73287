import { createBatcher, type Scheduler } from './batcher';

/** A scheduler the test runs by hand: `due` holds what would run at the next frame. */
function manualScheduler() {
  const due: (() => void)[] = [];
  let cancelled = 0;
  const schedule: Scheduler = (run) => {
    due.push(run);
    return () => {
      const at = due.indexOf(run);
      if (at >= 0) {
        due.splice(at, 1);
        cancelled++;
      }
    };
  };
  const frame = () => due.splice(0).forEach((run) => run());
  return { schedule, due, frame, cancelled: () => cancelled };
}

describe('createBatcher', () => {
  it('delivers everything pushed before a frame once, in order, and schedules one frame for it', () => {
    const clock = manualScheduler();
    const delivered: number[][] = [];
    const batcher = createBatcher<number>((items) => delivered.push(items), clock.schedule);
    batcher.push(1);
    batcher.push(2);
    batcher.push(3);
    expect(clock.due).toHaveLength(1);
    expect(delivered).toEqual([]);
    clock.frame();
    expect(delivered).toEqual([[1, 2, 3]]);
  });

  it('schedules the next frame only when something new arrives', () => {
    const clock = manualScheduler();
    const delivered: number[][] = [];
    const batcher = createBatcher<number>((items) => delivered.push(items), clock.schedule);
    batcher.push(1);
    clock.frame();
    expect(clock.due).toHaveLength(0);
    batcher.push(2);
    expect(clock.due).toHaveLength(1);
    clock.frame();
    expect(delivered).toEqual([[1], [2]]);
  });

  it('flush delivers at once and cancels the scheduled frame', () => {
    const clock = manualScheduler();
    const delivered: string[][] = [];
    const batcher = createBatcher<string>((items) => delivered.push(items), clock.schedule);
    batcher.push('a');
    batcher.flush();
    expect(delivered).toEqual([['a']]);
    expect(clock.cancelled()).toBe(1);
    batcher.flush();
    expect(delivered).toEqual([['a']]);
  });

  it('cancel drops what is queued', () => {
    const clock = manualScheduler();
    const delivered: number[][] = [];
    const batcher = createBatcher<number>((items) => delivered.push(items), clock.schedule);
    batcher.push(1);
    batcher.cancel();
    clock.frame();
    expect(delivered).toEqual([]);
    batcher.push(2);
    clock.frame();
    expect(delivered).toEqual([[2]]);
  });

  it('an item pushed while a batch is delivered goes into the next batch', () => {
    const clock = manualScheduler();
    const delivered: number[][] = [];
    const batcher = createBatcher<number>((items) => {
      delivered.push(items);
      if (items[0] === 1) batcher.push(99);
    }, clock.schedule);
    batcher.push(1);
    clock.frame();
    expect(delivered).toEqual([[1]]);
    clock.frame();
    expect(delivered).toEqual([[1], [99]]);
  });
});
