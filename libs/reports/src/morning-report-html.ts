// The morning report as one self-contained HTML page (no script, no external file) that prints
// cleanly to PDF: A4 landscape pages, table headers repeated on each page, rows never split.
// Every value is escaped: ECIDs, messages and labels come from phones and people.
import type { BatchReport, DeviceReportRow, NeedsHumanEntry, QuarantinedSlotEntry } from '@bench/events';
import { retriedRows } from './batch-report';
import { attemptClasses } from './device-rows';

const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

export function escapeHtml(value: string | number | null | undefined): string {
  if (value === null || value === undefined) return '';
  return String(value).replace(/[&<>"']/g, (char) => ESCAPES[char]);
}

/** `2025-06-01 03:12 UTC`: the same on every machine, whatever its locale or time zone. */
export function formatTime(iso: string | null): string {
  if (!iso) return '—';
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return `${date.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

export function formatDuration(seconds: number | null): string {
  if (seconds === null) return '—';
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  if (h > 0) return `${h} h ${m} min`;
  if (m > 0) return `${m} min ${s} s`;
  return `${s} s`;
}

const STYLE = `
  * { box-sizing: border-box; }
  body { font: 11pt/1.35 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; color: #111; margin: 24px; }
  h1 { font-size: 18pt; margin: 0 0 4px; }
  h2 { font-size: 13pt; margin: 22px 0 8px; border-bottom: 2px solid #333; padding-bottom: 2px; break-after: avoid; }
  .meta { color: #444; margin: 0 0 12px; }
  .figures { display: flex; flex-wrap: wrap; gap: 8px; margin: 8px 0 4px; }
  .figure { border: 1px solid #999; border-radius: 4px; padding: 6px 10px; min-width: 120px; break-inside: avoid; }
  .figure b { display: block; font-size: 16pt; }
  table { border-collapse: collapse; width: 100%; font-size: 9pt; }
  thead { display: table-header-group; }
  th, td { border: 1px solid #bbb; padding: 3px 5px; text-align: left; vertical-align: top; }
  th { background: #eee; }
  tr { break-inside: avoid; }
  .nowrap { white-space: nowrap; }
  .mono { font-family: "DejaVu Sans Mono", Menlo, Consolas, monospace; }
  .hash { font-family: "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: 7pt; word-break: break-all; }
  .badge { font-weight: bold; padding: 0 4px; border-radius: 3px; white-space: nowrap; }
  .done { background: #d8f0d8; } .bricked { background: #f4c7c7; } .attention { background: #ffe2b3; }
  .stuck { background: #f0d0f0; } .quarantined { background: #d8d8f8; } .failed { background: #f4c7c7; }
  .cancelled, .queued, .running { background: #e6e6e6; }
  .none { color: #555; font-style: italic; }
  @page { size: A4 landscape; margin: 12mm; }
  @media print {
    body { margin: 0; font-size: 10pt; }
    * { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
    section { break-inside: auto; }
  }
`;

export function morningReportHtml(report: BatchReport): string {
  const { batch, summary } = report;
  const title = `Morning report: ${batch.name}`;
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>${escapeHtml(title)}</title>
<style>${STYLE}</style>
</head>
<body>
<h1>${escapeHtml(title)}</h1>
<p class="meta">${escapeHtml(report.shop)} · batch <span class="mono">${escapeHtml(batch.id)}</span> ·
firmware ${escapeHtml(batch.firmwareSelector)} (${escapeHtml(batch.behavior)}) · ${escapeHtml(batch.state)} ·
${escapeHtml(formatTime(batch.startedAt ?? batch.scheduledAt ?? batch.createdAt))} → ${escapeHtml(formatTime(batch.finishedAt))}
· generated ${escapeHtml(formatTime(report.generatedAt))}</p>
<section id="summary">
<h2>Summary</h2>
<div class="figures">
${figure('Phones', summary.devices)}
${figure('Done', summary.done, `${summary.doneFirstTry} first try, ${summary.retried} after retries`)}
${figure('Need a human', summary.needsHuman)}
${figure('Quarantined slots', summary.quarantinedSlots)}
${figure('Success rate', summary.successRate === null ? '—' : `${Math.round(summary.successRate * 100)} %`)}
${figure('Median restore', formatDuration(summary.medianDurationSeconds))}
${figure('Attempts', summary.totalAttempts)}
${summary.unfinished + summary.cancelled > 0 ? figure('Unfinished / cancelled', `${summary.unfinished} / ${summary.cancelled}`) : ''}
</div>
${failuresLine(summary.failuresByClass)}
</section>
${needsHumanSection(report.needsHuman)}
${retriedSection(retriedRows(report.devices))}
${quarantineSection(report.quarantinedSlots)}
${doneSection(report.devices.filter((row) => row.outcome === 'done'))}
${devicesSection(report.devices)}
</body>
</html>
`;
}

function figure(label: string, value: string | number, note?: string): string {
  return `<div class="figure">${escapeHtml(label)}<b>${escapeHtml(value)}</b>${note ? `<small>${escapeHtml(note)}</small>` : ''}</div>`;
}

function failuresLine(byClass: BatchReport['summary']['failuresByClass']): string {
  const entries = Object.entries(byClass).sort((a, b) => (b[1] ?? 0) - (a[1] ?? 0));
  if (entries.length === 0) return '<p>No failed attempts.</p>';
  return `<p>Failed attempts by class: ${entries.map(([cls, n]) => `${escapeHtml(cls)} ${escapeHtml(n ?? 0)}`).join(', ')}</p>`;
}

function badge(outcome: string): string {
  return `<span class="badge ${escapeHtml(outcome)}">${escapeHtml(outcome)}</span>`;
}

function table(id: string, heading: string, columns: string[], rows: string[][], empty: string): string {
  const body =
    rows.length === 0
      ? `<p class="none">${escapeHtml(empty)}</p>`
      : `<table>
<thead><tr>${columns.map((c) => `<th>${escapeHtml(c)}</th>`).join('')}</tr></thead>
<tbody>
${rows.map((cells) => `<tr>${cells.map((cell) => `<td>${cell}</td>`).join('')}</tr>`).join('\n')}
</tbody>
</table>`;
  return `<section id="${id}">
<h2>${escapeHtml(heading)} (${rows.length})</h2>
${body}
</section>`;
}

const mono = (value: string | null) => `<span class="mono">${escapeHtml(value ?? '—')}</span>`;
const plain = (value: string | number | null) => escapeHtml(value ?? '—');
const nowrap = (value: string | number | null) => `<span class="nowrap">${escapeHtml(value ?? '—')}</span>`;

function needsHumanSection(entries: readonly NeedsHumanEntry[]): string {
  return table(
    'needs-human',
    'Needs a human',
    ['Slot', 'ECID', 'Model', 'State', 'Class', 'Why', 'What to do'],
    entries.map((e) => [
      plain(e.slot),
      mono(e.ecid),
      plain(e.model),
      badge(e.outcome),
      plain(e.failureClass),
      plain(e.message),
      plain(e.action),
    ]),
    'Nobody needs to do anything: every phone finished or is still running.',
  );
}

function retriedSection(rows: readonly DeviceReportRow[]): string {
  return table(
    'retried',
    'Done after retries',
    ['Slot', 'ECID', 'Model', 'Attempts', 'Classes'],
    rows.map((row) => [
      plain(row.slot),
      mono(row.ecid),
      plain(row.model),
      plain(row.attempts.length),
      plain(attemptClasses(row)),
    ]),
    'No phone needed a retry.',
  );
}

function quarantineSection(entries: readonly QuarantinedSlotEntry[]): string {
  return table(
    'quarantined',
    'Quarantined slots',
    ['Slot', 'Port', 'Since', 'Reason', 'Phones', 'Now'],
    entries.map((e) => [
      plain(e.slot),
      mono(`${e.hostId}/${e.portPath}`),
      plain(formatTime(e.since)),
      plain(e.reason),
      mono(e.phones.join(', ') || null),
      e.stillQuarantined ? badge('quarantined') : plain('cleared'),
    ]),
    'No slot was quarantined.',
  );
}

function doneSection(rows: readonly DeviceReportRow[]): string {
  return table(
    'done',
    'Done',
    ['Slot', 'ECID', 'Serial', 'Model', 'From → to', 'Build', 'Duration'],
    rows.map((row) => [
      plain(row.slot),
      mono(row.ecid),
      mono(row.serialNumber),
      plain(row.model),
      nowrap(`${row.fromVersion ?? '?'} → ${row.toVersion ?? '?'}`),
      mono(row.build),
      nowrap(formatDuration(row.durationSeconds)),
    ]),
    'No phone finished yet.',
  );
}

function devicesSection(rows: readonly DeviceReportRow[]): string {
  return table(
    'devices',
    'Every phone',
    [
      'Slot',
      'ECID',
      'Serial',
      'Model',
      'From → to',
      'Build',
      'IPSW SHA-256',
      'Operator',
      'Started',
      'Duration',
      'Attempts',
      'Outcome',
    ],
    rows.map((row) => [
      plain(row.slot),
      mono(row.ecid),
      mono(row.serialNumber),
      plain(row.model),
      nowrap(`${row.fromVersion ?? '?'} → ${row.toVersion ?? '?'}`),
      mono(row.build),
      `<span class="hash">${escapeHtml(row.ipswSha256 ?? '—')}</span>`,
      plain(row.operator),
      plain(formatTime(row.startedAt)),
      nowrap(formatDuration(row.durationSeconds)),
      plain(attemptClasses(row) || '—'),
      badge(row.outcome),
    ]),
    'The batch has no runs.',
  );
}
