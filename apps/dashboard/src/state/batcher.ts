// Socket events arrive one at a time, hundreds a second on a large floor (128 slots × 5 updates/s
// in `npm run bench:dashboard`). Rendering the floor once per event kept the browser's main thread
// busy and let updates queue up for seconds; the batcher hands them over once per animation frame
// instead, where the browser paints anyway, so the floor renders at most once a frame.

/** Runs `run` once, later; returns a function that cancels it (harmless after it ran). */
export type Scheduler = (run: () => void) => () => void;

export interface Batcher<T> {
  /** Queues an item; the first item after a delivery schedules the next one. */
  push(item: T): void;
  /** Delivers what is queued now (nothing when the queue is empty). */
  flush(): void;
  /** Drops what is queued and the scheduled delivery (the component went away). */
  cancel(): void;
}

export function createBatcher<T>(deliver: (items: T[]) => void, schedule: Scheduler): Batcher<T> {
  let queued: T[] = [];
  let unschedule: (() => void) | null = null;
  const flush = () => {
    unschedule?.();
    unschedule = null;
    if (queued.length === 0) return;
    const items = queued;
    queued = [];
    deliver(items);
  };
  return {
    push(item) {
      queued.push(item);
      unschedule ??= schedule(flush);
    },
    flush,
    cancel() {
      unschedule?.();
      unschedule = null;
      queued = [];
    },
  };
}

/** How long a batch waits when no frame comes (a hidden tab paints none). */
export const FRAME_FALLBACK_MS = 100;

/** The next animation frame, or FRAME_FALLBACK_MS from now if that comes first. Browser only. */
export const nextFrame: Scheduler = (run) => {
  let pending = true;
  const once = () => {
    if (!pending) return;
    pending = false;
    cancelAnimationFrame(frame);
    clearTimeout(timer);
    run();
  };
  const frame = requestAnimationFrame(once);
  const timer = setTimeout(once, FRAME_FALLBACK_MS);
  return () => {
    pending = false;
    cancelAnimationFrame(frame);
    clearTimeout(timer);
  };
};
