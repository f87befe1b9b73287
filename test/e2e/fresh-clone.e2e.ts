// Acceptance (foundation #1): from a fresh `git clone` in a temporary directory, `npm ci` and
// `npm start` bring up the server and the agent with SQLite and a Redis that bench started
// itself (nothing answers on the probe port); /health answers on both; Ctrl-C (SIGINT to the
// process group, as a terminal sends it) stops everything, including redis-server.
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { isAlive, REPO_ROOT, runProcess, tempDir, waitFor, WatchedProcess } from '@bench/testing';

jest.setTimeout(15 * 60_000);

function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

async function getJson(url: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(url);
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

describe('fresh clone → npm ci → npm start', () => {
  const { dir, remove } = tempDir('bench-clone-');
  const checkout = path.join(dir, 'bench');
  afterAll(() => remove());

  // npm ci, not the README's npm install: the same install from package-lock.json, without
  // letting npm rewrite the lock file of the clone under test.
  it('clones and installs from the lock file (npm ci)', async () => {
    const clone = await runProcess('git', ['clone', '--quiet', REPO_ROOT, checkout], { timeoutMs: 120_000 });
    expect(clone.code).toBe(0);
    const install = await runProcess('npm', ['ci', '--no-audit', '--no-fund'], {
      cwd: checkout,
      timeoutMs: 12 * 60_000,
    });
    if (install.code !== 0) throw new Error(`npm ci failed:\n${install.stdout}\n${install.stderr}`);
    expect(existsSync(path.join(checkout, 'dist/apps/cli/src/main.js'))).toBe(true);
  });

  it('npm start runs server, agent and its own redis-server; SIGINT stops all of them', async () => {
    const probePort = await closedPort();
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      BENCH_REDIS_PROBE: `127.0.0.1:${probePort}`,
      BENCH_SERVER_PORT: '0',
      BENCH_AGENT_PORT: '0',
      LOG_FORMAT: 'json',
    };
    const start = new WatchedProcess(
      spawn('npm', ['start'], { cwd: checkout, env, stdio: 'pipe', detached: true }),
    );
    try {
      const serverUrl = (await start.waitForOutput(/dashboard at (http:\/\/127\.0\.0\.1:\d+)\//, 120_000))[1];
      const agentUrl = (
        await start.waitForOutput(/health at (http:\/\/127\.0\.0\.1:\d+)\/health/, 60_000)
      )[1];

      const serverHealth = await getJson(`${serverUrl}/health`);
      const agentHealth = await getJson(`${agentUrl}/health`);
      expect(serverHealth).toMatchObject({ status: 200, body: { status: 'ok', app: 'server' } });
      expect(agentHealth).toMatchObject({ status: 200, body: { status: 'ok', app: 'bench-agent' } });
      // The dashboard, built by `npm ci` (prepare), with the script it loads.
      const page = await (await fetch(`${serverUrl}/`)).text();
      expect(page).toContain('<div id="app"></div>');
      const script = /src="(\/assets\/[^"]+\.js)"/.exec(page)?.[1];
      expect(script).toBeDefined();
      expect((await fetch(`${serverUrl}${script}`)).status).toBe(200);

      const state = JSON.parse(readFileSync(path.join(checkout, 'var/run/bench.json'), 'utf8')) as {
        pid: number;
        redis: { source: string; pid: number; url: string };
        server: { pid: number };
        agent: { pid: number };
      };
      expect(state.redis.source).toBe('embedded');
      expect(state.redis.url).not.toContain(`:${probePort}`);
      expect(existsSync(path.join(checkout, 'var/bench.db'))).toBe(true);
      expect(existsSync(path.join(checkout, 'var/redis/appendonlydir'))).toBe(true);
      const pids = [state.pid, state.redis.pid, state.server.pid, state.agent.pid];
      expect(pids.every(isAlive)).toBe(true);

      process.kill(-(start.child.pid ?? 0), 'SIGINT');
      const exit = await start.exited;
      // npm passes SIGINT on and then dies of it itself (or exits 130); bench exits 0.
      expect(exit.code === 0 || exit.code === 130 || exit.signal === 'SIGINT').toBe(true);
      await waitFor(
        () => pids.every((pid) => !isAlive(pid)) || undefined,
        10_000,
        'every bench process to exit',
      );
      const leftovers = await runProcess('pgrep', [
        '-f',
        `redis-server 127.0.0.1:${new URL(state.redis.url).port}`,
      ]);
      expect(leftovers.stdout.trim()).toBe('');
      expect(start.output).toMatch(/stopping the embedded redis-server/);
    } finally {
      if (start.child.exitCode === null) {
        try {
          process.kill(-(start.child.pid ?? 0), 'SIGKILL');
        } catch {
          // already gone
        }
      }
    }
  });
});
