// var/run/bench.json: what a running `bench start` on this PC reports (its Redis, and the server
// and agent once ready). `bench start` writes it; `bench status` and `bench batch` read it to
// find that Redis and that server without being told.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { BenchEnv } from '@bench/config';

export interface RunningBenchState {
  pid?: number;
  redis?: { url?: string; source?: string; pid?: number };
  server?: { port?: number; pid?: number } | null;
  agent?: { port?: number; pid?: number } | null;
}

export function runningBenchFile(env: BenchEnv): string {
  return path.join(env.varDir, 'run', 'bench.json');
}

/** What the file says, or undefined when no bench runs here (no file, or one being rewritten). */
export function readRunningBench(env: BenchEnv): RunningBenchState | undefined {
  const file = runningBenchFile(env);
  if (!existsSync(file)) return undefined;
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as RunningBenchState;
  } catch {
    return undefined;
  }
}
