// One BullMQ queue per physical USB port: `restore.<host>.<port>` (design §3). BullMQ keys
// queues by name under its prefix, and ':' separates key parts, so names avoid it; the port
// path's '-' and '.' are kept readable.
const SAFE = /^[A-Za-z0-9_.-]+$/;

export function restoreQueueName(hostId: string, portPath: string): string {
  if (!SAFE.test(hostId)) throw new RangeError(`host id '${hostId}' cannot be part of a queue name`);
  if (!SAFE.test(portPath)) throw new RangeError(`port path '${portPath}' cannot be part of a queue name`);
  return `restore.${hostId}.${portPath}`;
}

/** The inverse, for tools listing queues; undefined for names that are not restore queues. */
export function parseRestoreQueueName(name: string): { hostId: string; portPath: string } | undefined {
  const match = /^restore\.([A-Za-z0-9_-]+)\.(\d+-[\d.]+)$/.exec(name);
  return match ? { hostId: match[1], portPath: match[2] } : undefined;
}

export const BULLMQ_PREFIX = 'bench';

/** The servers' queue of batch steps: a delayed start per batch and a job scheduler that ticks it. */
export const BATCH_QUEUE = 'batches';
