// A batch row as the API shows it: its choice of slots, its progress counted from its runs, what
// the pre-fetch found per host and model, and the warnings raised while it waited or ran.
import type { BatchPrefetchView, BatchView, BatchWarningView } from '@bench/events';
import { allowedActions, progressOf, readJson, type StoredWarning } from './batch-rules';
import type { PrefetchState } from './batch-steps';

export interface BatchViewRow {
  id: string;
  name: string;
  firmwareSelector: string;
  behavior: string;
  state: string;
  scheduledAt: Date | null;
  policy: string | null;
  slotIds: string | null;
  message: string | null;
  prefetch: string | null;
  warnings: string | null;
  createdBy: string | null;
  createdAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
  benches: { benchId: string }[];
  runStates: Record<string, number>;
}

export function batchView(row: BatchViewRow): BatchView {
  const prefetch = readJson<PrefetchState | null>(row.prefetch, null);
  const progress = progressOf(row.runStates);
  return {
    id: row.id,
    name: row.name,
    firmwareSelector: row.firmwareSelector,
    behavior: row.behavior,
    state: row.state,
    benchIds: row.benches.map((bench) => bench.benchId),
    slotIds: readJson<string[]>(row.slotIds, []),
    policy: row.policy,
    scheduledAt: row.scheduledAt?.toISOString() ?? null,
    createdBy: row.createdBy,
    createdAt: row.createdAt.toISOString(),
    startedAt: row.startedAt?.toISOString() ?? null,
    finishedAt: row.finishedAt?.toISOString() ?? null,
    runStates: row.runStates,
    message: row.message,
    progress,
    actions: allowedActions(row.state, { hasRuns: progress.total > 0 }),
    prefetch: (prefetch?.outcomes ?? []).map((outcome): BatchPrefetchView => ({
      hostId: outcome.hostId,
      productType: outcome.productType,
      firmware: outcome.firmware,
      build: outcome.build ?? null,
      version: outcome.version ?? null,
      fetched: outcome.fetched,
      signing: outcome.signing,
      message: outcome.message ?? null,
      at: new Date(outcome.at).toISOString(),
    })),
    warnings: readJson<StoredWarning[]>(row.warnings, []).map((warning): BatchWarningView => ({
      at: warning.at,
      kind: warning.kind,
      message: warning.message,
      hostId: warning.hostId,
      productType: warning.productType,
      build: warning.build,
    })),
  };
}
