import type { BatchView } from '@bench/events';
import { formatBatch, formatBatchList, progressLine } from './batch-format';

const batch = (changes: Partial<BatchView> = {}): BatchView => ({
  id: 'b-1',
  name: 'Rack 3 overnight',
  firmwareSelector: 'latest',
  behavior: 'erase',
  state: 'running',
  benchIds: ['rack-3'],
  scheduledAt: '2026-12-07T22:00:00.000Z',
  createdBy: 'max',
  createdAt: '2026-12-07T15:00:00.000Z',
  startedAt: '2026-12-07T22:00:01.000Z',
  finishedAt: null,
  runStates: { done: 12, failed: 1, running: 19 },
  slotIds: [],
  policy: 'overnight',
  message: null,
  progress: {
    total: 32,
    byState: { done: 12, failed: 1, running: 19 },
    done: 12,
    failed: 1,
    cancelled: 0,
    unfinished: 19,
    needsHuman: 1,
    percent: 41,
  },
  prefetch: [
    {
      hostId: 'pc-1',
      productType: 'iPhone12,1',
      firmware: 'latest',
      build: '22G100',
      version: '18.6.2',
      fetched: true,
      signing: 'signed',
      message: null,
      at: '2026-12-07T22:00:00.500Z',
    },
  ],
  warnings: [],
  actions: ['pause', 'cancel'],
  ...changes,
});

describe('batch output', () => {
  it('says progress as a person reads it', () => {
    expect(progressLine(batch())).toBe('12/32 done, 1 needs a human, 19 to go');
    const ended = batch({
      progress: { ...batch().progress, done: 30, needsHuman: 2, unfinished: 0, cancelled: 0 },
    });
    expect(progressLine(ended)).toBe('30/32 done, 2 need a human');
  });

  it('lists batches as a table, and says when there are none', () => {
    expect(formatBatchList([batch()]).split('\n')).toEqual([
      'ID   NAME              STATE    FIRMWARE        START                    PROGRESS',
      'b-1  Rack 3 overnight  running  latest (erase)  2026-12-07 22:00:01 UTC  12/32 done, 1 needs a human, 19 to go',
      '',
    ]);
    expect(formatBatchList([])).toMatch(/^no batches yet/);
  });

  it('shows one batch: what it restores, pre-fetch and signing, warnings, what can be done now', () => {
    const text = formatBatch(
      batch({
        warnings: [
          {
            at: '2026-12-07T21:00:00.000Z',
            kind: 'build-unsigned',
            message: 'Apple stopped signing 22G100 for iPhone12,1',
            hostId: 'pc-1',
            productType: 'iPhone12,1',
            build: '22G100',
          },
        ],
      }),
    );
    expect(text).toContain('Rack 3 overnight (b-1)');
    expect(text).toContain('  phones on: bench rack-3');
    expect(text).toContain('  policy:    overnight');
    expect(text).toContain('  progress:  12/32 done, 1 needs a human, 19 to go (41%)');
    expect(text).toContain('    pc-1 iPhone12,1: 18.6.2 (22G100), fetched, signing signed');
    expect(text).toContain('  warning 2026-12-07 21:00:00 UTC: Apple stopped signing 22G100 for iPhone12,1');
    expect(text).toContain('  can now:   pause, cancel');
    expect(formatBatch(batch({ actions: [] }))).toContain('can now:   nothing (it has ended)');
  });
});
