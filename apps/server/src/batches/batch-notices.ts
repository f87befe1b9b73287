// What a batch tells the people away from the floor overnight, through the webhooks that ask for
// it (`batches:` in bench.config.yaml): it waits for a person (attention), a build it needs
// stopped being signed (warning), it ended (done). Called by the batch's step machine right after
// the change it reports, which one worker makes once (the batch lock and a conditional update),
// so each notice is posted once however many servers run.
import type { BatchNotice, BenchConfig } from '@bench/config';
import { apiPath, type BatchNoticeBody } from '@bench/events';
import type { Logger } from '@bench/logging';
import { deliver } from '../live/webhooks';
import { progressOf } from './batch-rules';

export interface NoticeBatch {
  id: string;
  name: string;
  state: string;
  firmwareSelector: string;
  runStates: Record<string, number>;
}

/** "Rack 3 overnight: 30 of 32 done, 2 need a human." */
export function doneMessage(batch: NoticeBatch): string {
  const progress = progressOf(batch.runStates);
  const parts = [`${progress.done} of ${progress.total} done`];
  if (progress.needsHuman > 0)
    parts.push(`${progress.needsHuman} need${progress.needsHuman === 1 ? 's' : ''} a human`);
  if (progress.cancelled > 0) parts.push(`${progress.cancelled} cancelled`);
  return `${batch.name}: ${parts.join(', ')}`;
}

export function noticeBody(
  batch: NoticeBatch,
  notice: BatchNotice,
  message: string,
  at: number,
): BatchNoticeBody {
  return {
    type: 'batch',
    notice,
    message,
    at,
    batch: {
      id: batch.id,
      name: batch.name,
      state: batch.state,
      firmware: batch.firmwareSelector,
      progress: progressOf(batch.runStates),
      reportPath: apiPath('batchReportHtml', { batchId: batch.id }),
    },
  };
}

export class BatchNotices {
  constructor(
    private readonly config: BenchConfig,
    private readonly logger: Logger,
    private readonly now: () => number = Date.now,
  ) {}

  /** Posts to every webhook that asked for `notice`; never throws, never waits (a slow hook must not hold a batch step). */
  notify(batch: NoticeBatch, notice: BatchNotice, message: string): void {
    const hooks = this.config.alerts.webhooks.filter((hook) => hook.batches.includes(notice));
    if (hooks.length === 0) return;
    const body = noticeBody(batch, notice, message, this.now());
    for (const hook of hooks)
      void deliver(hook, body).then((result) => {
        if (!result.ok)
          this.logger.warn(
            `batch ${batch.name} (${batch.id}): webhook ${hook.url} failed after ${result.tries} tries: ${result.error ?? `HTTP ${result.status}`}`,
          );
      });
  }
}
