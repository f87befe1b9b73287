import type { PrefetchOutcome } from '@bench/jobs';
import {
  allowedActions,
  BATCH_STATES,
  parseStartAt,
  prefetchProblems,
  progressOf,
  readJson,
  recheckWarnings,
  signingRecheckMs,
  startDelayMs,
  transition,
  type StoredWarning,
} from './batch-rules';

const NOW = Date.parse('2026-11-25T18:00:00Z');

function outcome(
  overrides: Partial<PrefetchOutcome & { hostId: string }> = {},
): PrefetchOutcome & { hostId: string } {
  return {
    hostId: 'pc-1',
    productType: 'iPhone10,1',
    firmware: 'latest',
    build: '22G100',
    version: '18.6.2',
    fetched: true,
    signing: 'signed',
    at: NOW,
    ...overrides,
  };
}

describe('batch transitions', () => {
  it('pauses a batch that waits, pre-fetches or runs, and nothing else', () => {
    const pausable = BATCH_STATES.filter((state) => 'to' in transition(state, 'pause', { hasRuns: false }));
    expect(pausable).toEqual(['scheduled', 'prefetching', 'running']);
    expect(transition('done', 'pause', { hasRuns: true })).toEqual({
      refused: 'a done batch cannot be paused',
    });
  });

  it('resumes to running when runs exist, else to scheduled (pre-fetch again); attention retries', () => {
    expect(transition('paused', 'resume', { hasRuns: true })).toEqual({ to: 'running' });
    expect(transition('paused', 'resume', { hasRuns: false })).toEqual({ to: 'scheduled' });
    expect(transition('attention', 'resume', { hasRuns: false })).toEqual({ to: 'scheduled' });
    expect(transition('running', 'resume', { hasRuns: true })).toMatchObject({
      refused: expect.stringMatching(/cannot be resumed/),
    });
  });

  it('cancels anything that has not ended', () => {
    for (const state of ['scheduled', 'prefetching', 'running', 'paused', 'attention'])
      expect(transition(state, 'cancel', { hasRuns: true })).toEqual({ to: 'cancelled' });
    expect(transition('cancelled', 'cancel', { hasRuns: true })).toEqual({
      refused: 'the batch is already cancelled',
    });
    expect(transition('done', 'cancel', { hasRuns: true })).toEqual({ refused: 'the batch is already done' });
  });
});

describe('the actions a batch offers', () => {
  it('are exactly the ones its transitions allow', () => {
    const offered = Object.fromEntries(
      BATCH_STATES.map((state) => [state, allowedActions(state, { hasRuns: true })]),
    );
    expect(offered).toEqual({
      scheduled: ['pause', 'cancel'],
      prefetching: ['pause', 'cancel'],
      running: ['pause', 'cancel'],
      paused: ['resume', 'cancel'],
      attention: ['resume', 'cancel'],
      done: [],
      cancelled: [],
    });
  });
});

describe('batch schedule', () => {
  it('starts at its time, or now when that has passed', () => {
    expect(startDelayMs(new Date(NOW + 15_000), NOW)).toBe(15_000);
    expect(startDelayMs(new Date(NOW - 5_000), NOW)).toBe(0);
    expect(startDelayMs(null, NOW)).toBe(0);
  });

  it('reads startAt: absent is now, a clearly past or unreadable time is refused naming the field', () => {
    expect(parseStartAt(undefined, NOW)).toEqual({ at: new Date(NOW) });
    expect(parseStartAt('2026-11-25T22:00:00Z', NOW)).toEqual({ at: new Date('2026-11-25T22:00:00Z') });
    // A few seconds in the past (clock skew, a slow form) means now.
    expect(parseStartAt('2026-11-25T17:59:50Z', NOW)).toEqual({ at: new Date(NOW) });
    expect(parseStartAt('2026-11-24T22:00:00Z', NOW)).toEqual({
      error: 'startAt: 2026-11-24T22:00:00.000Z is in the past (now is 2026-11-25T18:00:00.000Z)',
    });
    expect(parseStartAt('tonight', NOW)).toEqual({ error: "startAt: 'tonight' is not an ISO 8601 time" });
  });

  it('re-checks signing every 10 minutes, scaled to a simulated clock but never more often than 5 s', () => {
    expect(signingRecheckMs()).toBe(600_000);
    expect(signingRecheckMs(60)).toBe(10_000);
    expect(signingRecheckMs(1000)).toBe(5_000);
  });
});

describe('pre-fetch answers', () => {
  it('lets runs start only when every model is fetched and signed', () => {
    expect(prefetchProblems([outcome(), outcome({ productType: 'iPhone9,1' })])).toEqual([]);
  });

  it('says per host and model why not, in words a technician can act on', () => {
    const problems = prefetchProblems([
      outcome({ signing: 'not-signed', message: 'TSS refused to sign (status 94)' }),
      outcome({ hostId: 'pc-2', signing: 'unreachable', message: 'no answer after 3 attempt(s)' }),
      outcome({
        productType: 'iPhone9,1',
        build: undefined,
        fetched: false,
        signing: 'not-checked',
        message: 'cannot fetch the IPSW: disk full',
      }),
    ]);
    expect(problems).toEqual([
      'iPhone10,1 22G100 on pc-1: the build is no longer signed (TSS status 94); choose a signed build',
      'iPhone10,1 22G100 on pc-2: the signing server did not answer (no answer after 3 attempt(s))',
      'iPhone9,1 latest on pc-1: cannot fetch the IPSW: disk full',
    ]);
  });
});

describe('signing re-check warnings', () => {
  it('warns once per model and build that stopped being signed, whichever host saw it', () => {
    const first = recheckWarnings(
      [
        outcome({ signing: 'not-signed' }),
        outcome({ hostId: 'pc-2', signing: 'not-signed' }),
        outcome({ productType: 'iPhone9,1' }),
      ],
      [],
      'running',
      NOW,
    );
    expect(first).toEqual([
      {
        at: new Date(NOW).toISOString(),
        kind: 'build-unsigned',
        message:
          'iPhone10,1 build 22G100 (iOS 18.6.2) is no longer signed: its runs not yet restored will stop with signing-refused',
        hostId: 'pc-1',
        productType: 'iPhone10,1',
        build: '22G100',
      },
    ]);
    expect(recheckWarnings([outcome({ signing: 'not-signed' })], first, 'running', NOW + 1)).toEqual([]);
  });

  it('tells a scheduled batch it will wait in attention, and warns once per host the signing server does not answer', () => {
    const [unsigned] = recheckWarnings([outcome({ signing: 'not-signed' })], [], 'scheduled', NOW);
    expect(unsigned.message).toMatch(/will wait in attention when it starts/);
    const unreachable = recheckWarnings(
      [outcome({ signing: 'unreachable', message: 'ECONNREFUSED' })],
      [],
      'running',
      NOW,
    );
    expect(unreachable).toEqual([
      expect.objectContaining({
        kind: 'signing-unreachable',
        hostId: 'pc-1',
        message: expect.stringMatching(/ECONNREFUSED/),
      }),
    ]);
    const existing: StoredWarning[] = unreachable;
    expect(recheckWarnings([outcome({ signing: 'unreachable' })], existing, 'running', NOW)).toEqual([]);
  });
});

describe('batch progress', () => {
  it('counts runs by state; held and queued runs are not finished; failed ones need a person', () => {
    expect(progressOf({ done: 5, failed: 1, cancelled: 1, running: 2, queued: 1, held: 2 })).toEqual({
      total: 12,
      byState: { done: 5, failed: 1, cancelled: 1, running: 2, queued: 1, held: 2 },
      done: 5,
      failed: 1,
      cancelled: 1,
      unfinished: 5,
      needsHuman: 1,
      percent: 58,
    });
    expect(progressOf({})).toMatchObject({ total: 0, percent: 0 });
  });

  it('reads the JSON columns, falling back on an unreadable one', () => {
    expect(readJson('["a"]', [])).toEqual(['a']);
    expect(readJson('{oops', [])).toEqual([]);
    expect(readJson(null, 'none')).toBe('none');
  });
});
