// The batches in the manager's summary panel: each one's state and progress, why it waits, the
// warnings it raised (a build that stopped being signed), and its morning report. Re-read when
// the floor changes (at most every few seconds) and every half minute (a scheduled batch starts,
// or waits in attention, without any slot changing).
import type { BatchView } from '@bench/events';
import { useEffect, useRef, useState } from 'preact/hooks';
import { messageOf, type ApiClient } from '../api/client';
import { batchLine, orderBatches } from '../state/batches';
import { formatClock } from '../state/presentation';

const MIN_REFRESH_INTERVAL_MS = 3000;
const REFRESH_EVERY_MS = 30_000;

export function BatchList({ api, floorKey }: { api: ApiClient; floorKey: string }) {
  const [batches, setBatches] = useState<BatchView[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const lastFetchAt = useRef(0);
  const pending = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  const controller = useRef(new AbortController());
  const [tick, setTick] = useState(0);

  useEffect(() => {
    const timer = setInterval(() => setTick((n) => n + 1), REFRESH_EVERY_MS);
    return () => {
      clearInterval(timer);
      clearTimeout(pending.current);
      controller.current.abort();
    };
  }, []);

  useEffect(() => {
    if (pending.current) return;
    const wait = Math.max(0, lastFetchAt.current + MIN_REFRESH_INTERVAL_MS - Date.now());
    pending.current = setTimeout(() => {
      pending.current = undefined;
      lastFetchAt.current = Date.now();
      const { signal } = controller.current;
      api('batches', { signal })
        .then((next) => {
          setBatches(next);
          setError(null);
        })
        .catch((failure: unknown) => {
          if (!signal.aborted) setError(messageOf(failure));
        });
    }, wait);
  }, [api, floorKey, tick]);

  const lines = batches ? orderBatches(batches).map((batch) => batchLine(batch, formatClock)) : [];
  return (
    <section data-testid="batches">
      <h3>Batches</h3>
      {error && <p class="error">{error}</p>}
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
            {line.hasReport && <ReportButton api={api} batchId={line.id} />}
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
