import { parseRestoreJobData } from './job-contract';
import { parseRestoreQueueName, restoreQueueName } from './queue-names';

describe('restore queues', () => {
  it('names one queue per host and port, and reads it back', () => {
    expect(restoreQueueName('bench-pc-1', '1-1.4.2')).toBe('restore.bench-pc-1.1-1.4.2');
    expect(parseRestoreQueueName('restore.bench-pc-1.1-1.4.2')).toEqual({
      hostId: 'bench-pc-1',
      portPath: '1-1.4.2',
    });
    expect(parseRestoreQueueName('health.x')).toBeUndefined();
  });

  it('refuses names BullMQ would split', () => {
    expect(() => restoreQueueName('pc:1', '1-1')).toThrow("host id 'pc:1' cannot be part of a queue name");
  });
});

describe('restore job data', () => {
  it('accepts a run id and an optional checkpoint', () => {
    const runId = '6c2f7a9e-1f0b-4a3e-9a41-3f1d2b7c8e90';
    expect(parseRestoreJobData({ runId })).toEqual({ runId });
    expect(parseRestoreJobData({ runId, checkpoint: { restoreCompleted: true } }).checkpoint).toEqual({
      restoreCompleted: true,
    });
  });

  it.each([[{}], [{ runId: 'nope' }], [{ runId: '6c2f7a9e-1f0b-4a3e-9a41-3f1d2b7c8e90', extra: 1 }], [null]])(
    'refuses %p',
    (data) => {
      expect(() => parseRestoreJobData(data)).toThrow(/^restore job data /);
    },
  );
});
