// Batches as the manager's summary panel lists them: the ones still under way first (a batch
// waiting in attention first of all), then the newest finished ones; each reduced to the lines a
// person reads across the room. Pure, so the wording is unit-tested.
import type { BatchAction, BatchView, CreateBatchRequest } from '@bench/events';

/** Finished batches kept in the list (the newest), after every unfinished one. */
export const FINISHED_BATCHES_SHOWN = 5;

const FINISHED = new Set(['done', 'cancelled']);

/** How urgent a batch state is: lower comes first. */
const STATE_ORDER: Record<string, number> = {
  attention: 0,
  paused: 1,
  prefetching: 2,
  running: 3,
  scheduled: 4,
};

export interface BatchLine {
  id: string;
  name: string;
  state: string;
  /** `attention` and `paused` want a person; the rest go on by themselves. */
  wantsPerson: boolean;
  /** "12 of 32 done · 2 need a human", or when it starts. */
  progress: string;
  percent: number;
  /** Why it waits, or what it left out. */
  message: string | null;
  /** Warnings raised while it waited or ran (a build that stopped being signed), newest first. */
  warnings: string[];
  /** Whether its report says anything yet (it has runs). */
  hasReport: boolean;
  /** The buttons it offers (pause, resume, cancel), as the server allows them now. */
  actions: BatchAction[];
}

export function orderBatches(batches: readonly BatchView[]): BatchView[] {
  const unfinished = batches
    .filter((batch) => !FINISHED.has(batch.state))
    .sort(
      (a, b) =>
        (STATE_ORDER[a.state] ?? 5) - (STATE_ORDER[b.state] ?? 5) || b.createdAt.localeCompare(a.createdAt),
    );
  const finished = batches
    .filter((batch) => FINISHED.has(batch.state))
    .sort((a, b) => (b.finishedAt ?? b.createdAt).localeCompare(a.finishedAt ?? a.createdAt))
    .slice(0, FINISHED_BATCHES_SHOWN);
  return [...unfinished, ...finished];
}

export function batchLine(batch: BatchView, formatTime: (iso: string) => string): BatchLine {
  const { progress } = batch;
  const parts =
    progress.total === 0
      ? [
          batch.state === 'scheduled' && batch.scheduledAt
            ? `starts ${formatTime(batch.scheduledAt)}`
            : 'no runs yet',
        ]
      : [`${progress.done} of ${progress.total} done`];
  if (progress.needsHuman > 0)
    parts.push(`${progress.needsHuman} need${progress.needsHuman === 1 ? 's' : ''} a human`);
  if (progress.cancelled > 0) parts.push(`${progress.cancelled} cancelled`);
  return {
    id: batch.id,
    name: batch.name,
    state: batch.state,
    wantsPerson: batch.state === 'attention' || batch.state === 'paused',
    progress: parts.join(' · '),
    percent: progress.percent,
    message: batch.message,
    warnings: [...batch.warnings].sort((a, b) => b.at.localeCompare(a.at)).map((warning) => warning.message),
    hasReport: progress.total > 0,
    actions: batch.actions,
  };
}

/** The new-batch form as the manager fills it in. */
export interface BatchDraft {
  name: string;
  /** `latest` or a build such as 22G100 (the server checks the form). */
  firmware: string;
  behavior: 'erase' | 'update';
  benchIds: string[];
  /** An `<input type="datetime-local">` value (the browser's local time), empty for now. */
  startAt: string;
  /** A retry policy of bench.config.yaml, empty for each bench's own. */
  policy: string;
}

export function emptyDraft(): BatchDraft {
  return { name: '', firmware: 'latest', behavior: 'erase', benchIds: [], startAt: '', policy: '' };
}

/**
 * The request the form makes, or what is missing in words. Only what the form alone can tell
 * (a name, a bench, a readable time); the server checks the rest and its message is shown.
 */
export function batchRequest(draft: BatchDraft): { request: CreateBatchRequest } | { error: string } {
  const name = draft.name.trim();
  if (!name) return { error: 'Give the batch a name.' };
  if (draft.benchIds.length === 0) return { error: 'Choose at least one bench.' };
  const request: CreateBatchRequest = {
    name,
    firmware: draft.firmware.trim() || 'latest',
    behavior: draft.behavior,
    benchIds: draft.benchIds,
  };
  if (draft.startAt) {
    // A datetime-local value has no zone: the Date constructor reads it as local time.
    const at = new Date(draft.startAt);
    if (Number.isNaN(at.getTime())) return { error: `The start time '${draft.startAt}' is not a time.` };
    request.startAt = at.toISOString();
  }
  if (draft.policy) request.policy = draft.policy;
  return { request };
}

/** A button's words for a batch action. */
export const BATCH_ACTION_LABELS: Record<BatchAction, string> = {
  pause: 'Pause',
  resume: 'Resume',
  cancel: 'Cancel',
};
