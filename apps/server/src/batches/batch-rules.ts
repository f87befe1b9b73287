// The rules of a batch, without I/O: which operator action is allowed in which state and where
// it leads, when a scheduled batch starts, how often signing is re-checked, what the agents'
// pre-fetch answers mean, and how progress is counted. BatchService applies them.
import type { BatchAction, BatchProgress, BatchState } from '@bench/events';
import type { PrefetchOutcome } from '@bench/jobs';

export const BATCH_STATES = [
  'scheduled',
  'prefetching',
  'running',
  'paused',
  'attention',
  'done',
  'cancelled',
] as const satisfies readonly BatchState[];

export type { BatchAction };

const BATCH_ACTIONS = ['pause', 'resume', 'cancel'] as const satisfies readonly BatchAction[];

/** Run states that are not ended (held: kept off its port's queue while the batch is paused). */
export const UNFINISHED_RUN_STATES = ['queued', 'held', 'running'] as const;

export type Transition = { to: BatchState } | { refused: string };

/**
 * Where an operator's action takes a batch. Resume goes back to `running` when the batch has
 * runs, else to `scheduled` (pre-fetch again, now if its time has come); from `attention` it
 * retries the pre-fetch.
 */
export function transition(state: string, action: BatchAction, context: { hasRuns: boolean }): Transition {
  switch (action) {
    case 'pause':
      if (state === 'scheduled' || state === 'prefetching' || state === 'running') return { to: 'paused' };
      return { refused: `a ${state} batch cannot be paused` };
    case 'resume':
      if (state === 'paused') return { to: context.hasRuns ? 'running' : 'scheduled' };
      if (state === 'attention') return { to: 'scheduled' };
      return {
        refused: `a ${state} batch cannot be resumed (only a paused batch or one waiting in attention)`,
      };
    case 'cancel':
      if (state === 'done' || state === 'cancelled') return { refused: `the batch is already ${state}` };
      return { to: 'cancelled' };
  }
}

/** The actions `transition` allows in `state` (what the dashboard offers). */
export function allowedActions(state: string, context: { hasRuns: boolean }): BatchAction[] {
  return BATCH_ACTIONS.filter((action) => 'to' in transition(state, action, context));
}

/** How long until a batch scheduled at `at` starts (0: now). */
export function startDelayMs(at: Date | null, now: number): number {
  return at ? Math.max(0, at.getTime() - now) : 0;
}

/** A start time more than this far in the past is a mistake (a wrong date), not "now". */
export const PAST_START_TOLERANCE_MS = 60_000;

/** Reads `startAt`: undefined means now; an unreadable or clearly past time is refused with why. */
export function parseStartAt(text: string | undefined, now: number): { at: Date } | { error: string } {
  if (text === undefined) return { at: new Date(now) };
  const at = new Date(text);
  if (Number.isNaN(at.getTime())) return { error: `startAt: '${text}' is not an ISO 8601 time` };
  if (at.getTime() < now - PAST_START_TOLERANCE_MS)
    return { error: `startAt: ${at.toISOString()} is in the past (now is ${new Date(now).toISOString()})` };
  return { at: at.getTime() < now ? new Date(now) : at };
}

/** Signing is re-checked this often on real hardware… */
export const SIGNING_RECHECK_MS = 10 * 60_000;
/** …and never more often than this, however fast a simulated bench runs. */
export const SIGNING_RECHECK_FLOOR_MS = 5_000;

/** The re-check interval under a simulated clock `speed` times faster than ours (1 on real hardware). */
export function signingRecheckMs(speed = 1): number {
  return Math.max(SIGNING_RECHECK_FLOOR_MS, Math.round(SIGNING_RECHECK_MS / Math.max(1, speed)));
}

/** Whether a pre-fetch outcome lets runs start: the IPSW is here and the build is signed. */
export function outcomeReady(outcome: PrefetchOutcome): boolean {
  return outcome.fetched && outcome.signing === 'signed';
}

/** A sentence per outcome that stops the batch, naming the host, the model and the build. */
export function prefetchProblems(outcomes: readonly (PrefetchOutcome & { hostId: string })[]): string[] {
  return outcomes.filter((outcome) => !outcomeReady(outcome)).map(describeProblem);
}

function describeProblem(outcome: PrefetchOutcome & { hostId: string }): string {
  const what = `${outcome.productType} ${outcome.build ?? outcome.firmware} on ${outcome.hostId}`;
  switch (outcome.signing) {
    case 'not-signed':
      return `${what}: the build is no longer signed (TSS status 94); choose a signed build`;
    case 'unreachable':
      return `${what}: the signing server did not answer (${outcome.message ?? 'no answer'})`;
    case 'not-checked':
      return `${what}: ${outcome.message ?? 'the IPSW could not be fetched'}`;
    default:
      return `${what}: ${outcome.message ?? 'the signing check failed'}`;
  }
}

export interface StoredWarning {
  at: string;
  kind: 'build-unsigned' | 'signing-unreachable' | 'prefetch';
  message: string;
  hostId: string | null;
  productType: string | null;
  build: string | null;
}

/**
 * The warnings a signing re-check raises that the batch does not have yet: a build that stopped
 * being signed (once per model and build, whichever host saw it first), a signing server that
 * did not answer (once per host).
 */
export function recheckWarnings(
  outcomes: readonly (PrefetchOutcome & { hostId: string })[],
  existing: readonly StoredWarning[],
  batchState: string,
  now: number,
): StoredWarning[] {
  const raised: StoredWarning[] = [];
  const all = () => [...existing, ...raised];
  const warnedUnsigned = (productType: string, build: string) =>
    all().some((w) => w.kind === 'build-unsigned' && w.productType === productType && w.build === build);
  const warnedUnreachable = (hostId: string) =>
    all().some((w) => w.kind === 'signing-unreachable' && w.hostId === hostId);
  for (const outcome of outcomes) {
    const build = outcome.build ?? outcome.firmware;
    if (outcome.signing === 'not-signed' && !warnedUnsigned(outcome.productType, build)) {
      raised.push({
        at: new Date(now).toISOString(),
        kind: 'build-unsigned',
        message:
          `${outcome.productType} build ${build}${outcome.version ? ` (iOS ${outcome.version})` : ''} is no longer signed` +
          (batchState === 'scheduled'
            ? ': the batch will wait in attention when it starts unless a signed build is chosen'
            : ': its runs not yet restored will stop with signing-refused'),
        hostId: outcome.hostId,
        productType: outcome.productType,
        build,
      });
    }
    if (outcome.signing === 'unreachable' && !warnedUnreachable(outcome.hostId)) {
      raised.push({
        at: new Date(now).toISOString(),
        kind: 'signing-unreachable',
        message: `the signing server did not answer ${outcome.hostId}'s re-check: ${outcome.message ?? 'no answer'}`,
        hostId: outcome.hostId,
        productType: null,
        build: null,
      });
    }
  }
  return raised;
}

/** Counts a batch's runs by state into the progress the API shows. */
export function progressOf(byState: Record<string, number>): BatchProgress {
  const count = (state: string) => byState[state] ?? 0;
  const total = Object.values(byState).reduce((sum, n) => sum + n, 0);
  const unfinished = UNFINISHED_RUN_STATES.reduce((sum, state) => sum + count(state), 0);
  return {
    total,
    byState: { ...byState },
    done: count('done'),
    failed: count('failed'),
    cancelled: count('cancelled'),
    unfinished,
    needsHuman: count('failed'),
    percent: total === 0 ? 0 : Math.round(((total - unfinished) / total) * 100),
  };
}

/** Reads a JSON column written by BatchService; a missing or unreadable one is `fallback`. */
export function readJson<T>(text: string | null | undefined, fallback: T): T {
  if (!text) return fallback;
  try {
    return JSON.parse(text) as T;
  } catch {
    return fallback;
  }
}
