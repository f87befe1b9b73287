import { doneMessage, noticeBody, type NoticeBatch } from './batch-notices';

const batch = (runStates: Record<string, number>): NoticeBatch => ({
  id: 'b-1',
  name: 'Rack 3 overnight',
  state: 'done',
  firmwareSelector: 'latest',
  runStates,
});

describe('batch notices', () => {
  it('says how a batch ended in one line: done, who needs a human, what was cancelled', () => {
    expect(doneMessage(batch({ done: 32 }))).toBe('Rack 3 overnight: 32 of 32 done');
    expect(doneMessage(batch({ done: 30, failed: 1, cancelled: 1 }))).toBe(
      'Rack 3 overnight: 30 of 32 done, 1 needs a human, 1 cancelled',
    );
    expect(doneMessage(batch({ done: 28, failed: 4 }))).toBe(
      'Rack 3 overnight: 28 of 32 done, 4 need a human',
    );
  });

  it('carries the batch, its progress and where its morning report is', () => {
    expect(noticeBody(batch({ done: 31, failed: 1 }), 'done', 'the line', 1_700_000_000_000)).toEqual({
      type: 'batch',
      notice: 'done',
      message: 'the line',
      at: 1_700_000_000_000,
      batch: {
        id: 'b-1',
        name: 'Rack 3 overnight',
        state: 'done',
        firmware: 'latest',
        progress: expect.objectContaining({ total: 32, done: 31, needsHuman: 1, percent: 100 }),
        reportPath: '/api/batches/b-1/report.html',
      },
    });
  });
});
