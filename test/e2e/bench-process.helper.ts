// Runs `bench start` the way a user does, in its own BENCH_HOME with its own Redis (bench
// starts redis-server itself), and gives tests its URLs, its state file and a way to stop it.
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import type { ReadyMessage } from '@bench/app-runtime';
import { BenchDatabase } from '@bench/persistence';
import { REPO_ROOT, tempDir, waitFor, WatchedProcess } from '@bench/testing';

export interface BenchState {
  pid: number;
  redis: { url: string; source: string; pid?: number };
  server: { port: number; pid: number } | null;
  agent: { port: number; pid: number } | null;
}

export interface RunningBench {
  home: string;
  process: WatchedProcess;
  state(): BenchState;
  serverUrl(): string;
  agentUrl(): string;
  database(): BenchDatabase;
  status(): Promise<{
    slots: {
      hostId: string;
      portPath: string;
      state: string;
      ecid?: string;
      runId?: string;
      stage?: string;
      percent?: number;
      detail?: string;
    }[];
  }>;
  stop(): Promise<void>;
}

function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export async function startBench(args: string[], env: NodeJS.ProcessEnv = {}): Promise<RunningBench> {
  const { dir, remove } = tempDir('bench-e2e-');
  const child = spawn(process.execPath, [path.join(REPO_ROOT, 'bin/bench.js'), 'start', ...args], {
    cwd: dir,
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      BENCH_HOME: dir,
      BENCH_SERVER_PORT: '0',
      BENCH_AGENT_PORT: '0',
      BENCH_REDIS_PROBE: `127.0.0.1:${await closedPort()}`,
      LOG_FORMAT: 'json',
      LOG_LEVEL: 'info',
      ...env,
    },
    stdio: 'pipe',
  });
  const watched = new WatchedProcess(child);
  const stateFile = path.join(dir, 'var/run/bench.json');
  const state = () => JSON.parse(readFileSync(stateFile, 'utf8')) as BenchState;
  await waitFor(
    () => (existsSync(stateFile) && state().server && state().agent) || undefined,
    90_000,
    `bench start to be ready:\n${watched.output.slice(-3000)}`,
  );
  let database: BenchDatabase | undefined;
  return {
    home: dir,
    process: watched,
    state,
    serverUrl: () => `http://127.0.0.1:${state().server?.port}`,
    agentUrl: () => `http://127.0.0.1:${state().agent?.port}`,
    database: () => (database ??= BenchDatabase.fromUrl(`file:${path.join(dir, 'var/bench.db')}`)),
    status: async () => {
      const { runBench } = await import('@bench/testing');
      const result = await runBench(['status', '--json'], {
        env: { PATH: process.env.PATH, BENCH_HOME: dir },
      });
      return JSON.parse(result.stdout) as Awaited<ReturnType<RunningBench['status']>>;
    },
    stop: async () => {
      await database?.close();
      if (child.exitCode === null) {
        child.kill('SIGINT');
        // unref: once the bench has exited, this timer must not keep jest waiting.
        await Promise.race([watched.exited, new Promise((r) => setTimeout(r, 40_000).unref())]);
        if (child.exitCode === null) child.kill('SIGKILL');
      }
      remove();
    },
  };
}

export interface ForkedApp {
  child: ChildProcess;
  process: WatchedProcess;
  /** The app's `ready` message: its pid and the port it listens on. */
  ready: ReadyMessage;
}

/**
 * One app (dist/apps/<app>/src/main.js) forked the way `bench start` forks it
 * (child-supervisor.ts), with PATH and HOME plus `env`; resolves on its `ready` message.
 */
export async function forkApp(
  app: 'server' | 'bench-agent',
  env: NodeJS.ProcessEnv,
  cwd: string,
): Promise<ForkedApp> {
  const child = fork(path.join(REPO_ROOT, `dist/apps/${app}/src/main.js`), [], {
    cwd,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, LOG_FORMAT: 'json', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  const watched = new WatchedProcess(child);
  const ready = await new Promise<ReadyMessage>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`${app} did not start:\n${watched.output.slice(-3000)}`)),
      90_000,
    );
    child.on('message', (message: ReadyMessage) => {
      if (message?.type !== 'ready') return;
      clearTimeout(timer);
      resolve(message);
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${app} exited (${code}):\n${watched.output.slice(-3000)}`));
    });
  });
  return { child, process: watched, ready };
}
