import type { BatchView } from '@bench/events';
import { batchLine, batchRequest, emptyDraft, FINISHED_BATCHES_SHOWN, orderBatches } from './batches';

function batch(overrides: Partial<BatchView> & { id: string }): BatchView {
  return {
    name: overrides.id,
    firmwareSelector: 'latest',
    behavior: 'erase',
    state: 'running',
    benchIds: ['rack'],
    scheduledAt: null,
    createdBy: 'max',
    createdAt: '2026-12-06T20:00:00.000Z',
    startedAt: null,
    finishedAt: null,
    runStates: {},
    slotIds: [],
    policy: null,
    message: null,
    progress: {
      total: 0,
      byState: {},
      done: 0,
      failed: 0,
      cancelled: 0,
      unfinished: 0,
      needsHuman: 0,
      percent: 0,
    },
    prefetch: [],
    warnings: [],
    actions: ['pause', 'cancel'],
    ...overrides,
  };
}

const time = (iso: string) => iso.slice(11, 16);

describe('orderBatches', () => {
  it('lists a batch waiting for a person first, then the others under way, then the newest finished', () => {
    const finished = Array.from({ length: FINISHED_BATCHES_SHOWN + 2 }, (_, i) =>
      batch({ id: `old-${i}`, state: 'done', finishedAt: `2026-12-0${i + 1}T06:00:00.000Z` }),
    );
    const ordered = orderBatches([
      ...finished,
      batch({ id: 'running' }),
      batch({ id: 'waiting', state: 'attention' }),
      batch({ id: 'later', state: 'scheduled' }),
    ]);
    expect(ordered.map((b) => b.id)).toEqual([
      'waiting',
      'running',
      'later',
      'old-6',
      'old-5',
      'old-4',
      'old-3',
      'old-2',
    ]);
  });
});

describe('batchLine', () => {
  it('says when a scheduled batch starts', () => {
    const line = batchLine(
      batch({ id: 'b', state: 'scheduled', scheduledAt: '2026-12-06T22:00:00.000Z' }),
      time,
    );
    expect(line).toMatchObject({ progress: 'starts 22:00', wantsPerson: false, hasReport: false });
  });

  it('counts done, needing a human and cancelled runs', () => {
    const line = batchLine(
      batch({
        id: 'b',
        progress: {
          total: 32,
          byState: {},
          done: 29,
          failed: 1,
          cancelled: 2,
          unfinished: 0,
          needsHuman: 1,
          percent: 100,
        },
      }),
      time,
    );
    expect(line).toMatchObject({
      progress: '29 of 32 done · 1 needs a human · 2 cancelled',
      percent: 100,
      hasReport: true,
    });
  });

  it('shows why it waits and its warnings, newest first', () => {
    const line = batchLine(
      batch({
        id: 'b',
        state: 'attention',
        message:
          'iPhone10,1 22G100 on pc1: the build is no longer signed (TSS status 94); choose a signed build',
        warnings: [
          {
            at: '2026-12-06T21:00:00.000Z',
            kind: 'build-unsigned',
            message: 'first',
            hostId: 'pc1',
            productType: null,
            build: null,
          },
          {
            at: '2026-12-06T23:00:00.000Z',
            kind: 'build-unsigned',
            message: 'second',
            hostId: 'pc1',
            productType: null,
            build: null,
          },
        ],
      }),
      time,
    );
    expect(line.wantsPerson).toBe(true);
    expect(line.message).toMatch(/no longer signed/);
    expect(line.warnings).toEqual(['second', 'first']);
  });
});

describe('batchRequest', () => {
  const draft = { ...emptyDraft(), name: ' Rack 3 overnight ', benchIds: ['rack-3'] };

  it('asks for a name and a bench before anything goes to the server', () => {
    expect(batchRequest({ ...draft, name: '  ' })).toEqual({ error: 'Give the batch a name.' });
    expect(batchRequest({ ...draft, benchIds: [] })).toEqual({ error: 'Choose at least one bench.' });
  });

  it("starts now unless a time is given, with each bench's own policy unless one is chosen", () => {
    expect(batchRequest(draft)).toEqual({
      request: { name: 'Rack 3 overnight', firmware: 'latest', behavior: 'erase', benchIds: ['rack-3'] },
    });
    expect(batchRequest({ ...draft, firmware: ' 22G100 ', behavior: 'update', policy: 'overnight' })).toEqual(
      {
        request: {
          name: 'Rack 3 overnight',
          firmware: '22G100',
          behavior: 'update',
          benchIds: ['rack-3'],
          policy: 'overnight',
        },
      },
    );
  });

  it("reads the start time as the browser's local time and sends it as ISO 8601", () => {
    const result = batchRequest({ ...draft, startAt: '2026-12-07T22:00' });
    expect(result).toMatchObject({ request: { startAt: new Date(2026, 11, 7, 22, 0).toISOString() } });
    expect(batchRequest({ ...draft, startAt: 'tonight' })).toEqual({
      error: "The start time 'tonight' is not a time.",
    });
  });
});
