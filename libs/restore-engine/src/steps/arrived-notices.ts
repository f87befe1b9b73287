// What restored said while the host was busy streaming the filesystem. idevicerestore (and our
// session) read restored's connection only between data requests, so during a long upload its
// ProgressMsgs queue up: one per percent, and a battery warning (op 39) comes after all of them.
// When the upload fails, those messages say why (an empty battery, not a cable), so they are
// read before the failure is classified: every one already queued, then what arrives soon after.
import type { RestoredMessage } from '@bench/protocols';
import type { RestoredClient } from '@bench/usb-transport';

/** More than a whole upload's progress (101) and the device's other notices, far less than forever. */
export const ARRIVED_NOTICES_LIMIT = 512;
/** How long to wait for one more message once the queue is empty. */
export const ARRIVED_NOTICE_WAIT_MS = 250;

/**
 * Hands `onMessage` every message restored has sent and the host has not read yet, then those
 * arriving within ARRIVED_NOTICE_WAIT_MS of the last; stops at the limit, a quiet connection or a
 * closed one. Returns how many were read.
 */
export async function readArrivedNotices(
  client: Pick<RestoredClient, 'receiveMessage'>,
  onMessage: (message: RestoredMessage) => void,
): Promise<number> {
  let read = 0;
  while (read < ARRIVED_NOTICES_LIMIT) {
    const message = await client.receiveMessage({ timeoutMs: ARRIVED_NOTICE_WAIT_MS }).catch(() => undefined);
    if (!message) break;
    read++;
    onMessage(message);
  }
  return read;
}
