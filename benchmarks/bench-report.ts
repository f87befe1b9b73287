// Shared by the benchmarks: what machine this is, and recording results in BENCHMARKS.md under
// the benchmark's own heading (replacing the previous run of the same benchmark).
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export function machine(): string {
  const cpu = os.cpus()[0]?.model.trim() ?? 'unknown CPU';
  return `${cpu}, ${os.cpus().length} cores, ${(os.totalmem() / 1024 ** 3).toFixed(0)} GiB RAM, Node ${process.version}, ${os.platform()} ${os.release()}`;
}

export function record(root: string, heading: string, command: string, body: string): void {
  const file = path.join(root, 'BENCHMARKS.md');
  const date = new Date().toISOString().slice(0, 10);
  const section = [
    `## ${heading}`,
    '',
    `- command: \`${command}\``,
    `- machine: ${machine()}`,
    `- date: ${date}`,
    '',
    body.trim(),
    '',
  ].join('\n');
  let text = existsSync(file)
    ? readFileSync(file, 'utf8')
    : '# Benchmarks\n\nRecorded by `npm run bench:*`; each run replaces its own section.\n\n';
  const start = text.indexOf(`## ${heading}\n`);
  if (start >= 0) {
    const next = text.indexOf('\n## ', start + 1);
    // A blank line before the next benchmark's heading, as between all sections.
    text = text.slice(0, start) + section + (next >= 0 ? `\n${text.slice(next + 1)}` : '');
  } else {
    text = `${text.trimEnd()}\n\n${section}`;
  }
  writeFileSync(file, `${text.trimEnd()}\n`);
}

export function table(header: string[], rows: (string | number)[][]): string {
  const line = (cells: (string | number)[]) => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

/** Samples RSS every `everyMs` until stopped; returns the peak. */
export function rssSampler(everyMs = 20): { stop(): number; baseline: number } {
  const baseline = process.memoryUsage.rss();
  let peak = baseline;
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage.rss());
  }, everyMs);
  return {
    baseline,
    stop() {
      clearInterval(timer);
      return Math.max(peak, process.memoryUsage.rss());
    },
  };
}

export const MiB = 1024 * 1024;
