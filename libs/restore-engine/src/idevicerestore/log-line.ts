// Turns one raw output line into the text idevicerestore printed, without the decorations that
// different builds, wrappers and terminals add around it. Every prefix below was seen in real
// output quoted in test/fixtures/idevicerestore-logs/README.md.

export type LogLevel = 'error' | 'warning' | 'info' | 'debug';

export interface LogSegment {
  /** The message as idevicerestore formatted it, prefixes removed. */
  text: string;
  /** Level from a prefix (`ERROR:`, `<Error>`, …) when there was one. */
  level?: LogLevel;
  /** True when a logger prefix (timestamp) marked the line as the tool's own. */
  stamped: boolean;
}

// A bound on one segment, so a line without newlines (a plist dump, a stuck progress bar) cannot
// grow the parser's memory without limit.
export const MAX_SEGMENT_LENGTH = 16 * 1024;

// eslint-disable-next-line no-control-regex -- ANSI colour codes are control sequences by definition
const ANSI_ESCAPE = /\u001b\[[0-9;]*[A-Za-z]/g;

interface PrefixRule {
  pattern: RegExp;
  stamped: boolean;
  level?: (match: RegExpExecArray) => LogLevel | undefined;
}

const LABEL_LEVEL: Record<string, LogLevel> = {
  error: 'error',
  warning: 'warning',
  notice: 'info',
  info: 'info',
  verbose: 'debug',
  debug: 'debug',
  log: 'info',
};

const PREFIXES: readonly PrefixRule[] = [
  // upstream's logger (2024+) on stderr / --logfile: `09:38:32.205   <Error> …`
  {
    pattern: /^\d{2}:\d{2}:\d{2}\.\d{3}\s+<(Error|Warning|Notice|Info|Verbose|Debug)>\s?/,
    stamped: true,
    level: (m) => LABEL_LEVEL[m[1].toLowerCase()],
  },
  // wrappers that stamp each line: `20:17:39.117:  …`, `[12:11:50.829][14968] : …`,
  // `2018-04-25 10:25:51: …`, NSLog's `2020-06-23 15:42:43.334 app[1978:455367] …`
  { pattern: /^\d{2}:\d{2}:\d{2}\.\d{3}:\s+/, stamped: true },
  { pattern: /^\[\d{2}:\d{2}:\d{2}\.\d{3}\]\[\d+\] : /, stamped: true },
  { pattern: /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}: /, stamped: true },
  { pattern: /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{3} \S+\[\d+:\d+\] /, stamped: true },
  // wrapper scripts' tags: `[Error] ERROR: …`
  {
    pattern: /^\[(Error|Log|WARNING|Info)\] /,
    stamped: false,
    level: (m) => LABEL_LEVEL[m[1].toLowerCase()],
  },
  // idevicerestore's own level words
  { pattern: /^ERROR: /, stamped: false, level: () => 'error' },
  { pattern: /^WARNING: /, stamped: false, level: () => 'warning' },
  { pattern: /^(NOTE|INFO): /, stamped: false, level: () => 'info' },
  { pattern: /^DEBUG: /, stamped: false, level: () => 'debug' },
];

/** The line without terminal colour codes. */
export function stripAnsi(raw: string): string {
  return raw.replace(ANSI_ESCAPE, '');
}

/** Strips a segment's prefixes (several may stack: `[Error] ERROR: …`). */
export function normalizeSegment(raw: string): LogSegment {
  let text = stripAnsi(raw).trimEnd();
  let level: LogLevel | undefined;
  let stamped = false;
  for (let changed = true; changed;) {
    changed = false;
    for (const prefix of PREFIXES) {
      const match = prefix.pattern.exec(text);
      if (!match) continue;
      text = text.slice(match[0].length);
      stamped ||= prefix.stamped;
      // the most severe level seen wins: `<Info> ERROR: …` is an error
      const found = prefix.level?.(match);
      if (found && (level === undefined || severity(found) > severity(level))) level = found;
      changed = true;
    }
  }
  return { text, level, stamped };
}

function severity(level: LogLevel): number {
  return { debug: 0, info: 1, warning: 2, error: 3 }[level];
}

// A progress bar as print_progress_bar() draws it (optionally after a label), e.g.
// `[=====     ]  45.0%`. Bars end without a newline, so text printed next (often an error on
// stderr) can follow on the same terminal line.
const PROGRESS_BAR_END = /\[[= ]*\]\s+\d{1,3}(?:\.\d+)?%/g;

/**
 * Splits one raw line into the segments that were separate writes: `\r` redraws of a progress
 * bar, and text glued after a bar's percentage.
 */
export function splitSegments(rawLine: string): string[] {
  const line = rawLine.endsWith('\r') ? rawLine.slice(0, -1) : rawLine;
  const segments: string[] = [];
  for (const piece of line.split('\r')) {
    const bounded = piece.length > MAX_SEGMENT_LENGTH ? piece.slice(-MAX_SEGMENT_LENGTH) : piece;
    segments.push(...splitAfterProgressBars(bounded));
  }
  return segments.filter((segment) => segment.trim().length > 0);
}

function splitAfterProgressBars(piece: string): string[] {
  const parts: string[] = [];
  let start = 0;
  for (const match of piece.matchAll(PROGRESS_BAR_END)) {
    const end = (match.index ?? 0) + match[0].length;
    parts.push(piece.slice(start, end));
    start = end;
  }
  parts.push(piece.slice(start));
  return parts;
}
