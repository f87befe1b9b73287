// Alert webhooks: a JSON body signed with HMAC-SHA256 over `<timestamp>.<body>` (the receiver
// recomputes it with the shared secret and rejects stale timestamps, so a captured request cannot
// be replayed later). Delivery retries a few times, then gives up with a log line.
import { createHmac } from 'node:crypto';
import type { WebhookConfig } from '@bench/config';

export const SIGNATURE_HEADER = 'x-bench-signature';
export const TIMESTAMP_HEADER = 'x-bench-timestamp';

export function signBody(secret: string, timestamp: number, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

export interface WebhookDelivery {
  url: string;
  ok: boolean;
  status?: number;
  error?: string;
  tries: number;
}

export async function deliver(
  hook: WebhookConfig,
  payload: unknown,
  options: { tries?: number; timeoutMs?: number; backoffMs?: number; now?: () => number } = {},
): Promise<WebhookDelivery> {
  const tries = options.tries ?? 3;
  const body = JSON.stringify(payload);
  let last: WebhookDelivery = { url: hook.url, ok: false, tries: 0 };
  for (let attempt = 1; attempt <= tries; attempt++) {
    const timestamp = Math.floor((options.now ?? Date.now)() / 1000);
    try {
      const response = await fetch(hook.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'user-agent': 'bench-alerts',
          [TIMESTAMP_HEADER]: String(timestamp),
          [SIGNATURE_HEADER]: signBody(hook.secret, timestamp, body),
        },
        body,
        signal: AbortSignal.timeout(options.timeoutMs ?? 5_000),
      });
      await response.body?.cancel();
      last = { url: hook.url, ok: response.ok, status: response.status, tries: attempt };
      // A 4xx other than 429 will not get better by retrying.
      if (response.ok || (response.status < 500 && response.status !== 429)) return last;
    } catch (error) {
      last = { url: hook.url, ok: false, error: (error as Error).message, tries: attempt };
    }
    if (attempt < tries)
      await new Promise((resolve) => setTimeout(resolve, (options.backoffMs ?? 1_000) * 4 ** (attempt - 1)));
  }
  return last;
}
