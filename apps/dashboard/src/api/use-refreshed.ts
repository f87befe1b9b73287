// Server data a panel shows and re-reads: when `key` changes (the floor moved), at most once per
// `minIntervalMs` (a batch finishing changes the floor many times a second), and every
// `everyMs` when given (things that change without the floor changing, like a batch's start).
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { messageOf } from './client';

export interface Refreshed<T> {
  data: T | null;
  error: string | null;
  /** Read again (after an action that changed it). */
  reload: () => void;
  /** Show what an action answered until the next read. */
  update: (change: (current: T | null) => T | null) => void;
}

export function useRefreshed<T>(
  load: (signal: AbortSignal) => Promise<T>,
  key: string,
  { minIntervalMs = 3000, everyMs }: { minIntervalMs?: number; everyMs?: number } = {},
): Refreshed<T> {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [tick, setTick] = useState(0);
  const lastFetchAt = useRef(0);
  const pending = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  const controller = useRef(new AbortController());
  const latestLoad = useRef(load);
  latestLoad.current = load;

  useEffect(() => {
    const timer = everyMs ? setInterval(() => setTick((n) => n + 1), everyMs) : undefined;
    return () => {
      clearInterval(timer);
      clearTimeout(pending.current);
      controller.current.abort();
    };
  }, [everyMs]);

  useEffect(() => {
    // A change while a refresh is already scheduled is covered by that refresh.
    if (pending.current) return;
    const wait = Math.max(0, lastFetchAt.current + minIntervalMs - Date.now());
    pending.current = setTimeout(() => {
      pending.current = undefined;
      lastFetchAt.current = Date.now();
      const { signal } = controller.current;
      latestLoad
        .current(signal)
        .then((next) => {
          setData(next);
          setError(null);
        })
        .catch((failure: unknown) => {
          if (!signal.aborted) setError(messageOf(failure));
        });
    }, wait);
  }, [key, tick, minIntervalMs]);

  const reload = useCallback(() => setTick((n) => n + 1), []);
  return { data, error, reload, update: setData };
}
