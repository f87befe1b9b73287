// Pre-fetching firmware for a batch and checking that Apple (or the simulator) still signs it.
// The agents own the firmware cache and the TSS client, so a server asks each host's agent
// (agent command `prefetch`), and the agent writes its answer to a Redis list keyed by the
// request id; the server reads it on its next batch step, however many servers or restarts lie
// between (the list outlives both for a day).
import type { Redis } from 'ioredis';
import type { RestoreBehavior } from '@bench/bench-domain';

/** One model to prepare: the firmware a run would be given ('latest' or a build such as 22G100). */
export interface PrefetchItem {
  productType: string;
  firmware: string;
}

/**
 * What the signing server said about the build: `signed` (TSS status 0), `not-signed` (94),
 * `unreachable` (no answer at all), `error` (another status or a request it could not build),
 * `not-checked` (the IPSW could not be had, so nothing was asked).
 */
export const SIGNING_STATUSES = ['signed', 'not-signed', 'unreachable', 'error', 'not-checked'] as const;
export type SigningStatus = (typeof SIGNING_STATUSES)[number];

export interface PrefetchOutcome {
  productType: string;
  /** The selector asked for. */
  firmware: string;
  /** What it resolved to on this host (absent when it could not be resolved). */
  build?: string;
  version?: string;
  /** The IPSW is in this host's firmware store now. */
  fetched: boolean;
  signing: SigningStatus;
  message?: string;
  at: number;
}

export interface PrefetchAnswer {
  requestId: string;
  hostId: string;
  at: number;
  outcomes: PrefetchOutcome[];
}

export interface PrefetchCommandBody {
  requestId: string;
  items: PrefetchItem[];
  behavior: RestoreBehavior;
}

const ANSWER_TTL_SECONDS = 24 * 3600;

export const prefetchAnswerKey = (requestId: string) => `bench:prefetch:${requestId}`;

export class PrefetchAnswers {
  constructor(private readonly redis: Redis) {}

  /** The agent's side: one entry per host and request (a repeated request appends again). */
  async put(answer: PrefetchAnswer): Promise<void> {
    const key = prefetchAnswerKey(answer.requestId);
    await this.redis.multi().rpush(key, JSON.stringify(answer)).expire(key, ANSWER_TTL_SECONDS).exec();
  }

  /** The server's side: the newest answer of each host that answered; entries that do not parse are skipped. */
  async read(requestId: string): Promise<Map<string, PrefetchAnswer>> {
    const entries = await this.redis.lrange(prefetchAnswerKey(requestId), 0, -1);
    const byHost = new Map<string, PrefetchAnswer>();
    for (const text of entries) {
      const answer = parsePrefetchAnswer(text);
      if (answer && answer.requestId === requestId) byHost.set(answer.hostId, answer);
    }
    return byHost;
  }
}

export function parsePrefetchAnswer(text: string): PrefetchAnswer | undefined {
  try {
    const value = JSON.parse(text) as Partial<PrefetchAnswer>;
    if (!value || typeof value.requestId !== 'string' || typeof value.hostId !== 'string') return undefined;
    if (!Array.isArray(value.outcomes)) return undefined;
    const outcomes = value.outcomes.filter(
      (o): o is PrefetchOutcome =>
        !!o &&
        typeof o.productType === 'string' &&
        typeof o.firmware === 'string' &&
        typeof o.fetched === 'boolean' &&
        SIGNING_STATUSES.includes(o.signing),
    );
    return { requestId: value.requestId, hostId: value.hostId, at: Number(value.at) || 0, outcomes };
  } catch {
    return undefined;
  }
}
