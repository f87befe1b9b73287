// `bench batch create` options → the API's CreateBatchRequest, checked before anything is sent
// so a typo is named on the command line rather than as a server 400. Pure: the clock is passed in.
import { FIRMWARE_SELECTOR, type CreateBatchRequest } from '@bench/events';

export interface CreateBatchOptions {
  name?: string;
  firmware: string;
  update?: boolean;
  bench: string[];
  slot: string[];
  at?: string;
  policy?: string;
}

const CLOCK_TIME = /^([01]?\d|2[0-3]):([0-5]\d)$/;

/** The request, or a message naming the option that is wrong. */
export function createBatchRequest(options: CreateBatchOptions, now: Date): CreateBatchRequest | string {
  const name = options.name?.trim();
  if (!name) return '--name is required (what the floor calls the batch, e.g. "Rack 3 overnight")';
  if (!FIRMWARE_SELECTOR.test(options.firmware))
    return `--firmware '${options.firmware}': expected "latest" or a build number such as 22G100`;
  if (options.bench.length === 0 && options.slot.length === 0)
    return 'say which phones: --bench ID (every slot of a bench) or --slot ID, as often as needed';
  const request: CreateBatchRequest = {
    name,
    firmware: options.firmware,
    behavior: options.update ? 'update' : 'erase',
  };
  if (options.bench.length) request.benchIds = options.bench;
  if (options.slot.length) request.slotIds = options.slot;
  if (options.policy) request.policy = options.policy;
  if (options.at !== undefined) {
    const startAt = startTime(options.at, now);
    if (typeof startAt === 'string') return startAt;
    request.startAt = startAt.toISOString();
  }
  return request;
}

/**
 * `--at`: a clock time "HH:MM" (the next one, local time: "22:00" in the afternoon is tonight,
 * "06:30" at 23:00 is tomorrow morning) or a full ISO 8601 time with its zone.
 */
export function startTime(at: string, now: Date): Date | string {
  const clock = CLOCK_TIME.exec(at.trim());
  if (clock) {
    const next = new Date(now);
    next.setHours(Number(clock[1]), Number(clock[2]), 0, 0);
    if (next.getTime() <= now.getTime()) next.setDate(next.getDate() + 1);
    return next;
  }
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(at.trim()))
    return `--at '${at}': expected a clock time such as 22:00 or an ISO 8601 time such as 2026-12-07T22:00:00Z`;
  const time = new Date(at.trim());
  if (Number.isNaN(time.getTime())) return `--at '${at}': not a real time`;
  return time;
}
