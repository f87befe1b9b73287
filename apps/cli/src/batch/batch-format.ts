// How `bench batch` prints batches for a person (a table; one batch in detail). `--json` prints
// the API's BatchView instead. Pure.
import type { BatchView } from '@bench/events';

function table(rows: string[][]): string {
  const widths = rows[0].map((_, column) => Math.max(...rows.map((row) => row[column].length)));
  return rows
    .map((row) =>
      row
        .map((cell, i) => cell.padEnd(widths[i]))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

const when = (iso: string | null) => (iso ? iso.replace('T', ' ').replace(/\.\d+Z$|Z$/, ' UTC') : '-');

/** "12/32 done, 1 needs a human" style progress. */
export function progressLine(batch: BatchView): string {
  const { progress } = batch;
  const parts = [`${progress.done}/${progress.total} done`];
  if (progress.needsHuman)
    parts.push(`${progress.needsHuman} need${progress.needsHuman === 1 ? 's' : ''} a human`);
  if (progress.cancelled) parts.push(`${progress.cancelled} cancelled`);
  if (progress.unfinished) parts.push(`${progress.unfinished} to go`);
  return parts.join(', ');
}

export function formatBatchList(batches: BatchView[]): string {
  if (batches.length === 0) return 'no batches yet (make one with `bench batch create`)\n';
  const rows = [['ID', 'NAME', 'STATE', 'FIRMWARE', 'START', 'PROGRESS']];
  for (const batch of batches) {
    rows.push([
      batch.id,
      batch.name,
      batch.state,
      `${batch.firmwareSelector} (${batch.behavior})`,
      when(batch.startedAt ?? batch.scheduledAt),
      progressLine(batch),
    ]);
  }
  return `${table(rows)}\n`;
}

export function formatBatch(batch: BatchView): string {
  const what = [
    ...batch.benchIds.map((id) => `bench ${id}`),
    ...(batch.slotIds.length ? [`${batch.slotIds.length} slot(s)`] : []),
  ];
  const lines = [
    `${batch.name} (${batch.id})`,
    `  state:     ${batch.state}${batch.message ? ` — ${batch.message}` : ''}`,
    `  firmware:  ${batch.firmwareSelector}, ${batch.behavior}`,
    `  phones on: ${what.join(', ') || '-'}`,
    `  policy:    ${batch.policy ?? "each bench's own"}`,
    `  scheduled: ${when(batch.scheduledAt)}   started: ${when(batch.startedAt)}   finished: ${when(batch.finishedAt)}`,
    `  progress:  ${progressLine(batch)} (${batch.progress.percent}%)`,
  ];
  if (batch.prefetch.length) {
    lines.push('  firmware checked before the start:');
    for (const p of batch.prefetch) {
      const build = p.build ? `${p.version ?? '?'} (${p.build})` : 'no build';
      lines.push(
        `    ${p.hostId} ${p.productType}: ${build}, ${p.fetched ? 'fetched' : 'not fetched'}, signing ${p.signing}` +
          (p.message ? ` — ${p.message}` : ''),
      );
    }
  }
  for (const warning of batch.warnings) lines.push(`  warning ${when(warning.at)}: ${warning.message}`);
  lines.push(`  can now:   ${batch.actions.join(', ') || 'nothing (it has ended)'}`);
  return `${lines.join('\n')}\n`;
}
