// `bench start` as a user runs it, for the benchmarks that measure the whole bench: its own
// BENCH_HOME (SQLite database) and its own redis-server, the agent and the server as child
// processes. The benchmark reads var/run/bench.json for their pids and ports.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { childEnvironment } from '@bench/config';

export interface BenchState {
  pid: number;
  redis: { url: string };
  server: { port: number; pid: number } | null;
  agent: { port: number; pid: number } | null;
}

const REPO = path.resolve(__dirname, '../..');
const TAIL = 20_000;

/** A loopback port nothing listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export class BenchProcess {
  private output = '';

  private constructor(
    readonly home: string,
    private readonly child: ChildProcess,
  ) {
    const keep = (chunk: Buffer) => {
      this.output = (this.output + chunk.toString('utf8')).slice(-TAIL);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
  }

  /**
   * Starts `bench start` with `env` on top of the caller's environment; resolves when both apps
   * are ready. `nodeArgs` (e.g. `--cpu-prof`) reach the server and the agent too: fork() passes
   * the supervisor's own node options on.
   */
  static async start(env: Record<string, string>, nodeArgs: string[] = []): Promise<BenchProcess> {
    const home = mkdtempSync(path.join(tmpdir(), 'bench-benchmark-'));
    const child = spawn(process.execPath, [...nodeArgs, path.join(REPO, 'bin/bench.js'), 'start'], {
      cwd: home,
      env: childEnvironment({
        // Whatever the caller's shell points bench at, this bench is its own.
        REDIS_URL: undefined,
        DATABASE_URL: undefined,
        BENCH_CONFIG: undefined,
        BENCH_SIMULATE: undefined,
        BENCH_HOME: home,
        BENCH_SERVER_PORT: '0',
        BENCH_AGENT_PORT: '0',
        // A closed port: bench starts its own redis-server instead of sharing one.
        BENCH_REDIS_PROBE: `127.0.0.1:${await freePort()}`,
        LOG_FORMAT: 'json',
        LOG_LEVEL: 'info',
        ...env,
      }),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const bench = new BenchProcess(home, child);
    const deadline = Date.now() + 120_000;
    while (!bench.ready()) {
      if (child.exitCode !== null)
        throw new Error(`bench start exited (${child.exitCode}):\n${bench.output}`);
      if (Date.now() > deadline) throw new Error(`bench start was not ready in 120 s:\n${bench.output}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    return bench;
  }

  state(): BenchState {
    return JSON.parse(readFileSync(path.join(this.home, 'var/run/bench.json'), 'utf8')) as BenchState;
  }

  get agent(): { port: number; pid: number } {
    const agent = this.state().agent;
    if (!agent) throw new Error('the agent is not running');
    return agent;
  }

  agentUrl(route: string): string {
    return `http://127.0.0.1:${this.agent.port}${route}`;
  }

  get databaseFile(): string {
    return path.join(this.home, 'var/bench.db');
  }

  /** The last lines bench printed (for error messages). */
  get tail(): string {
    return this.output;
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null) {
      const exited = new Promise((resolve) => this.child.once('exit', resolve));
      this.child.kill('SIGINT');
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 40_000))]);
      if (this.child.exitCode === null) this.child.kill('SIGKILL');
    }
    rmSync(this.home, { recursive: true, force: true });
  }

  private ready(): boolean {
    const file = path.join(this.home, 'var/run/bench.json');
    if (!existsSync(file)) return false;
    try {
      const state = this.state();
      return state.server !== null && state.agent !== null;
    } catch {
      return false; // written at this moment
    }
  }
}
