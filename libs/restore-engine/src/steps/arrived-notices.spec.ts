import type { RestoredMessage } from '@bench/protocols';
import { DeviceServiceError } from '@bench/usb-transport';
import { ARRIVED_NOTICES_LIMIT, readArrivedNotices } from './arrived-notices';

const progress = (operation: number, percent: number): RestoredMessage => ({
  msgType: 'ProgressMsg',
  operation,
  progress: percent,
  raw: { MsgType: 'ProgressMsg', Operation: operation, Progress: percent },
});

/** restored's connection as the session sees it: queued messages, then nothing (or closed). */
function connection(queued: RestoredMessage[], end: 'quiet' | 'closed' | 'chatty') {
  const waits: (number | undefined)[] = [];
  return {
    waits,
    receiveMessage(options: { timeoutMs?: number } = {}): Promise<RestoredMessage> {
      waits.push(options.timeoutMs);
      const next = queued.shift();
      if (next) return Promise.resolve(next);
      if (end === 'chatty') return Promise.resolve(progress(13, 50));
      const kind = end === 'closed' ? 'closed' : 'timeout';
      return Promise.reject(new DeviceServiceError(kind, 'restored', `no message (${kind})`));
    },
  };
}

describe('readArrivedNotices', () => {
  it('reads the battery warning queued behind a whole upload of progress, not just the first few', async () => {
    // 0..40 %: one ProgressMsg 13 per percent, then "Waiting for battery to charge" (39).
    const queued = [...Array.from({ length: 41 }, (_, percent) => progress(13, percent)), progress(39, 0)];
    const seen: RestoredMessage[] = [];
    const client = connection(queued, 'closed');
    await expect(readArrivedNotices(client, (m) => seen.push(m))).resolves.toBe(42);
    expect(seen.at(-1)).toMatchObject({ msgType: 'ProgressMsg', operation: 39 });
    expect(client.waits.every((ms) => ms === 250)).toBe(true);
  });

  it('ends on a quiet connection', async () => {
    const seen: RestoredMessage[] = [];
    await expect(
      readArrivedNotices(connection([progress(13, 7)], 'quiet'), (m) => seen.push(m)),
    ).resolves.toBe(1);
    expect(seen).toHaveLength(1);
  });

  it('stops at its limit when the device keeps talking', async () => {
    let count = 0;
    await expect(readArrivedNotices(connection([], 'chatty'), () => count++)).resolves.toBe(
      ARRIVED_NOTICES_LIMIT,
    );
    expect(count).toBe(ARRIVED_NOTICES_LIMIT);
  });
});
