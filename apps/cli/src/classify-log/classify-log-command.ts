import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { IdevicerestoreLogParser, type IdevicerestoreVerdict } from '@bench/restore-engine';

export interface ClassifyLogOptions {
  json?: boolean;
}

export interface ClassifyLogIo {
  stdin: Readable;
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
}

/** Exit codes: 0 classified (success or a failure), 1 nothing in it looks like idevicerestore output, 2 unreadable. */
export async function classifyLogCommand(
  source: string,
  options: ClassifyLogOptions,
  io: ClassifyLogIo = { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr },
): Promise<number> {
  const name = source === '-' ? 'standard input' : source;
  const parser = new IdevicerestoreLogParser();
  try {
    const input = source === '-' ? io.stdin : await openFile(source);
    await forEachLine(input, (line) => parser.push(line));
  } catch (error) {
    io.stderr.write(`bench: cannot read ${name}: ${(error as Error).message}\n`);
    return 2;
  }
  if (parser.recognisedLines === 0) {
    io.stderr.write(`bench: ${name} does not look like idevicerestore output\n`);
    return 1;
  }
  const verdict = parser.result();
  io.stdout.write(options.json ? `${JSON.stringify(toJson(verdict), null, 2)}\n` : formatVerdict(verdict));
  return 0;
}

async function openFile(file: string): Promise<Readable> {
  const info = await stat(file);
  if (!info.isFile()) throw new Error('not a regular file');
  return createReadStream(file);
}

// Split on "\n" only: `\r` is a progress-bar redraw inside one line, and technicians need the
// line numbers their editor shows (readline would count every redraw as a line).
const MAX_PENDING = 1024 * 1024;

async function forEachLine(input: Readable, onLine: (line: string) => void): Promise<void> {
  input.setEncoding('utf8');
  let pending = '';
  for await (const chunk of input as AsyncIterable<string>) {
    pending += chunk;
    const lines = pending.split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) onLine(line);
    // a "line" without a newline for megabytes is passed on in pieces rather than held
    if (pending.length > MAX_PENDING) {
      onLine(pending);
      pending = '';
    }
  }
  if (pending.length > 0) onLine(pending);
}

export function formatVerdict(verdict: IdevicerestoreVerdict): string {
  if (verdict.ok) {
    return `result: success  stage: ${verdict.stage}  line ${verdict.lineNumber}: ${verdict.message}\n`;
  }
  const where =
    verdict.lineNumber === undefined ? verdict.message : `line ${verdict.lineNumber}: ${verdict.message}`;
  const lines = [
    `stage: ${verdict.stage}  class: ${verdict.failureClass}  ${where}`,
    `reason: ${verdict.reason}`,
  ];
  const { statusCode, lastDeviceMessage, deviceLog } = verdict.evidence;
  if (statusCode !== undefined) lines.push(`status code: ${statusCode}`);
  if (lastDeviceMessage !== undefined) lines.push(`last device message: ${lastDeviceMessage}`);
  if (deviceLog !== undefined) {
    const logLines = deviceLog.split('\n');
    lines.push(`device log: ${logLines.length} line(s), ending: ${logLines.at(-1) ?? ''}`);
  }
  return `${lines.join('\n')}\n`;
}

function toJson(verdict: IdevicerestoreVerdict): Record<string, unknown> {
  if (verdict.ok) {
    return { result: 'success', stage: verdict.stage, line: verdict.lineNumber, message: verdict.message };
  }
  return {
    result: 'failure',
    stage: verdict.stage,
    failureClass: verdict.failureClass,
    line: verdict.lineNumber ?? null,
    message: verdict.message,
    reason: verdict.reason,
    rule: verdict.rule,
    evidence: verdict.evidence,
  };
}
