// The batches in the manager's summary panel: each one's state and progress, why it waits, the
// warnings it raised (a build that stopped being signed), and its morning report. Re-read when
// the floor changes (at most every few seconds) and every half minute (a scheduled batch starts,
// or waits in attention, without any slot changing).
import type { BatchAction, BatchView, BenchView } from '@bench/events';
import { useState } from 'preact/hooks';
import { messageOf, type ApiClient } from '../api/client';
import { useRefreshed } from '../api/use-refreshed';
import { BATCH_ACTION_LABELS, batchLine, orderBatches } from '../state/batches';
import { BatchForm } from './BatchForm';
import { formatClock } from '../state/presentation';

const REFRESH_EVERY_MS = 30_000;

const ACTION_ROUTES = { pause: 'pauseBatch', resume: 'resumeBatch', cancel: 'cancelBatch' } as const;

export function BatchList({
  api,
  floorKey,
  benches,
}: {
  api: ApiClient;
  floorKey: string;
  benches: readonly BenchView[];
}) {
  const {
    data: batches,
    error,
    reload,
    update,
  } = useRefreshed((signal) => api('batches', { signal }), floorKey, { everyMs: REFRESH_EVERY_MS });
  const [formOpen, setFormOpen] = useState(false);
  const [actionError, setActionError] = useState<string | null>(null);

  /** Shows the batch as the server answered, at once, then reads the list again. */
  const changed = (batch: BatchView) => {
    update((current) => [batch, ...(current ?? []).filter((known) => known.id !== batch.id)]);
    reload();
  };
  const act = (batchId: string, action: BatchAction) => {
    if (action === 'cancel' && !window.confirm('Cancel this batch? Runs not yet started are dropped.'))
      return;
    api(ACTION_ROUTES[action], { params: { batchId }, body: {} })
      .then((batch) => {
        setActionError(null);
        changed(batch);
      })
      .catch((failure: unknown) => setActionError(messageOf(failure)));
  };

  const lines = batches ? orderBatches(batches).map((batch) => batchLine(batch, formatClock)) : [];
  return (
    <section data-testid="batches">
      <div class="batches-head">
        <h3>Batches</h3>
        {!formOpen && (
          <button class="link" onClick={() => setFormOpen(true)} data-testid="batch-new">
            + new batch
          </button>
        )}
      </div>
      {formOpen && (
        <BatchForm
          api={api}
          benches={benches}
          onCreated={(batch) => {
            setFormOpen(false);
            changed(batch);
          }}
          onClose={() => setFormOpen(false)}
        />
      )}
      {error && <p class="error">{error}</p>}
      {actionError && (
        <p class="error" data-testid="batch-action-error">
          {actionError}
        </p>
      )}
      {batches && lines.length === 0 && <p class="muted">No batches.</p>}
      <ul class="batches">
        {lines.map((line) => (
          <li
            key={line.id}
            class={`batch${line.wantsPerson ? ' wants-person' : ''}`}
            data-testid="batch"
            data-batch-id={line.id}
          >
            <div class="batch-head">
              <strong>{line.name}</strong>
              <span class={`batch-state ${line.state}`} data-testid="batch-state">
                {line.state}
              </span>
            </div>
            <span
              class="bar"
              role="progressbar"
              aria-valuenow={line.percent}
              aria-valuemin={0}
              aria-valuemax={100}
            >
              <span class="bar-fill" style={{ width: `${line.percent}%` }} />
            </span>
            <div class="muted" data-testid="batch-progress">
              {line.progress}
            </div>
            {line.message && <div class="batch-message">{line.message}</div>}
            {line.warnings.map((warning, i) => (
              <div key={i} class="batch-warning" data-testid="batch-warning">
                ⚠ {warning}
              </div>
            ))}
            <div class="batch-buttons">
              {line.actions.map((action) => (
                <button
                  key={action}
                  class={action === 'cancel' ? 'danger' : ''}
                  onClick={() => act(line.id, action)}
                  data-testid={`batch-${action}`}
                >
                  {BATCH_ACTION_LABELS[action]}
                </button>
              ))}
              {line.hasReport && <ReportButton api={api} batchId={line.id} />}
            </div>
          </li>
        ))}
      </ul>
    </section>
  );
}

/** Opens the batch's morning report (a self-contained page) in a new tab, fetched with the session's token. */
function ReportButton({ api, batchId }: { api: ApiClient; batchId: string }) {
  const [error, setError] = useState<string | null>(null);
  const open = () => {
    // Opened now, in the click: a tab opened after an await is a popup the browser may block.
    const tab = window.open('', '_blank');
    api('batchReportHtml', { params: { batchId } })
      .then((html) => {
        const url = URL.createObjectURL(new Blob([html], { type: 'text/html' }));
        if (tab) tab.location.href = url;
        else window.location.href = url;
        setError(null);
      })
      .catch((failure: unknown) => {
        tab?.close();
        setError(messageOf(failure));
      });
  };
  return (
    <div>
      <button class="link" onClick={open} data-testid="batch-report">
        morning report
      </button>
      {error && <span class="error"> {error}</span>}
    </div>
  );
}
