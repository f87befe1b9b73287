// The manager's summary: counts by state, throughput, success rate, the batches, where failures
// come from, and which cables are wearing out. Re-fetched when the floor's counts change, at
// most every few seconds (a batch finishing changes them many times a second).
import type { BenchView } from '@bench/events';
import type { ApiClient } from '../api/client';
import { useRefreshed } from '../api/use-refreshed';
import { formatRate, SLOT_STATES } from '../state/presentation';
import { BatchList } from './BatchList';
import { CableBadge, StateBadge } from './StateBadge';

const MAX_PORT_ROWS = 10;

export function Summary({
  api,
  floorKey,
  benches,
  onClose,
}: {
  api: ApiClient;
  floorKey: string;
  benches: readonly BenchView[];
  onClose: () => void;
}) {
  const { data: summary, error } = useRefreshed((signal) => api('summary', { signal }), floorKey);

  const failureClasses = summary
    ? Object.entries(summary.failuresByClass)
        .filter((entry): entry is [string, number] => typeof entry[1] === 'number' && entry[1] > 0)
        .sort((a, b) => b[1] - a[1])
    : [];
  const maxFailures = Math.max(1, ...failureClasses.map(([, count]) => count));
  return (
    <aside class="summary" data-testid="summary" aria-label="summary">
      <header class="drawer-head">
        <h2>Summary</h2>
        <button class="close" onClick={onClose} aria-label="close summary">
          ✕
        </button>
      </header>
      {error && <p class="error">{error}</p>}
      {!summary && !error && <p class="muted">Loading…</p>}
      {summary && (
        <>
          <div class="kpis">
            <Kpi name="restores / hour" value={summary.restoresPerHour.toFixed(1)} />
            <Kpi name="success rate" value={formatRate(summary.successRate)} />
            <Kpi name="finished runs" value={String(summary.finishedRuns)} />
          </div>

          <BatchList api={api} floorKey={floorKey} benches={benches} />

          <h3>Slots by state</h3>
          <ul class="state-counts">
            {SLOT_STATES.filter((state) => summary.countsByState[state]).map((state) => (
              <li key={state}>
                <StateBadge state={state} /> <strong>{summary.countsByState[state]}</strong>
              </li>
            ))}
          </ul>

          <h3>Failures by class</h3>
          {failureClasses.length === 0 ? (
            <p class="muted">No failures.</p>
          ) : (
            <ul class="bars">
              {failureClasses.map(([failureClass, count]) => (
                <li key={failureClass}>
                  <span class="bar-name">{failureClass}</span>
                  <span class="bar">
                    <span class="bar-fill" style={{ width: `${(count / maxFailures) * 100}%` }} />
                  </span>
                  <strong>{count}</strong>
                </li>
              ))}
            </ul>
          )}

          <h3>Failures by port</h3>
          {summary.failuresByPort.length === 0 ? (
            <p class="muted">No failures.</p>
          ) : (
            <table>
              <tbody>
                {[...summary.failuresByPort]
                  .sort((a, b) => b.failures - a.failures)
                  .slice(0, MAX_PORT_ROWS)
                  .map((port) => (
                    <tr key={`${port.hostId}/${port.portPath}`}>
                      <td>{port.label ?? port.portPath}</td>
                      <td class="muted">{port.hostId}</td>
                      <td class="number">{port.failures}</td>
                    </tr>
                  ))}
              </tbody>
            </table>
          )}

          <h3>Cable warnings</h3>
          {summary.cableWarnings.length === 0 ? (
            <p class="muted">All cables look good.</p>
          ) : (
            <ul class="cable-warnings">
              {summary.cableWarnings.map((warning) => (
                <li key={`${warning.hostId}/${warning.portPath}`}>
                  <strong>{warning.label ?? warning.portPath}</strong>{' '}
                  <CableBadge score={warning.cableScore} />
                  {warning.reasons.length > 0 && <span class="muted"> {warning.reasons.join(', ')}</span>}
                </li>
              ))}
            </ul>
          )}
        </>
      )}
    </aside>
  );
}

function Kpi({ name, value }: { name: string; value: string }) {
  return (
    <div class="kpi">
      <strong>{value}</strong>
      <span>{name}</span>
    </div>
  );
}
