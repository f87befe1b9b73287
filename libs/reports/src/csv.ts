// A small RFC 4180 writer (package.json has no CSV library, and writing is a few lines): fields
// with a comma, a double quote, CR or LF are quoted, quotes doubled, records end in CRLF. Text
// that a spreadsheet would run as a formula (=, +, -, @, tab, CR first) gets a leading
// apostrophe: ECIDs, messages and labels come from phones and people, and a shop opens this file
// in a spreadsheet.
import type { DeviceReportRow } from '@bench/events';
import { attemptClasses } from './device-rows';

export type CsvValue = string | number | boolean | null | undefined;

const FORMULA_START = /^[=+\-@\t\r]/;

export function csvField(value: CsvValue): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : '';
  let text = String(value);
  if (typeof value === 'string' && FORMULA_START.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** A header line and one line per record, each ending in CRLF. */
export function toCsv(header: readonly string[], records: readonly (readonly CsvValue[])[]): string {
  return [header, ...records].map((cells) => `${cells.map(csvField).join(',')}\r\n`).join('');
}

export const DEVICE_CSV_COLUMNS = [
  'run_id',
  'batch_id',
  'ecid',
  'serial_number',
  'model',
  'hardware_model',
  'from_version',
  'to_version',
  'build',
  'ipsw_sha256',
  'host',
  'port',
  'slot',
  'operator',
  'started_at',
  'finished_at',
  'duration_s',
  'attempts',
  'attempt_classes',
  'outcome',
  'failure_class',
  'failure_message',
] as const;

export function deviceRowsCsv(rows: readonly DeviceReportRow[]): string {
  return toCsv(
    DEVICE_CSV_COLUMNS,
    rows.map((row) => [
      row.runId,
      row.batchId,
      row.ecid,
      row.serialNumber,
      row.model,
      row.hardwareModel,
      row.fromVersion,
      row.toVersion,
      row.build,
      row.ipswSha256,
      row.hostId,
      row.portPath,
      row.slot,
      row.operator,
      row.startedAt,
      row.finishedAt,
      row.durationSeconds,
      row.attempts.length,
      attemptClasses(row),
      row.outcome,
      row.failureClass,
      row.failureMessage,
    ]),
  );
}
