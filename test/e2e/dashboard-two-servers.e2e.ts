// Several servers behind one Redis (design §3): a browser on server A sees the live floor that
// server B relays. B is the server `bench start` runs (it reads the agents' live feed); A is a
// second server process on the same Redis and database with BENCH_LIVE_RELAY=false, so it reads
// nothing from `bench:live` itself: every slot update its browser gets came from B through the
// socket.io Redis adapter.
import type { Browser, Page, Request } from 'playwright-core';
import { createRedis, LIVE_STREAM } from '@bench/jobs';
import type { WatchedProcess } from '@bench/testing';
import { forkApp, startBench, type RunningBench } from './bench-process.helper';
import {
  addUser,
  launchBrowser,
  logIn,
  openDashboard,
  recordedTileStates,
  recordTileStates,
  screenshot,
} from './dashboard.helper';

jest.setTimeout(6 * 60_000);

const ADMIN = { username: 'admin', password: 'correct horse battery', role: 'admin' } as const;
/** The consumer group every relaying server reads `bench:live` in (live-relay.service.ts). */
const RELAY_GROUP = 'live-relay';

interface SecondServer {
  process: WatchedProcess;
  pid: number;
  url: string;
  stop(): Promise<void>;
}

/** A second server the way `bench start` forks one (child-supervisor.ts), on its own port. */
async function startSecondServer(bench: RunningBench): Promise<SecondServer> {
  const {
    child,
    process: watched,
    ready,
  } = await forkApp(
    'server',
    {
      BENCH_HOME: bench.home,
      REDIS_URL: bench.state().redis.url,
      BENCH_SERVER_PORT: '0',
      BENCH_SERVER_BIND: '127.0.0.1',
      BENCH_LIVE_RELAY: 'false',
    },
    bench.home,
  );
  return {
    process: watched,
    pid: ready.pid,
    url: `http://127.0.0.1:${ready.port}`,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      await Promise.race([watched.exited, new Promise((r) => setTimeout(r, 20_000).unref())]);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
  };
}

/** The names of the consumers in the relay group: `<hostname>-<pid>` of each relaying server. */
async function relayConsumers(redisUrl: string): Promise<string[]> {
  const redis = createRedis(redisUrl, 'producer', { enableOfflineQueue: true });
  try {
    const rows = (await redis.xinfo('CONSUMERS', LIVE_STREAM, RELAY_GROUP)) as unknown[][];
    return rows.map((row) => String(row[row.indexOf('name') + 1]));
  } finally {
    redis.disconnect();
  }
}

describe('two servers on one Redis', () => {
  let bench: RunningBench | undefined;
  let serverA: SecondServer | undefined;
  let browser: Browser | undefined;

  afterAll(async () => {
    await browser?.close();
    await serverA?.stop();
    await bench?.stop();
  });

  it('a browser on server A (relay off) sees the slot updates server B relays', async () => {
    bench = await startBench(['--simulate', '4', '--speed', '100', '--seed', '2']);
    await addUser(bench.home, ADMIN);
    const serverB = bench.state().server;
    if (!serverB) throw new Error('bench start has no server');
    serverA = await startSecondServer(bench);
    expect(serverA.url).not.toBe(bench.serverUrl());
    await serverA.process.waitForOutput(/live relay off \(BENCH_LIVE_RELAY=false\)/, 30_000);

    browser = await launchBrowser();
    const page: Page = await openDashboard(browser, serverA.url);
    await logIn(page, ADMIN.username, ADMIN.password);
    await page.getByTestId('floor').waitFor();
    await page.getByTestId('connection-banner').waitFor({ state: 'detached', timeout: 30_000 });
    await page.evaluate('window.benchNoReload = true');

    // A phone whose first restore (auto-started on plug) has finished.
    const done = page.locator('[data-testid="slot-tile"][data-state="done"]').first();
    await done.waitFor({ timeout: 3 * 60_000 });
    const slotId = await done.getAttribute('data-slot-id');
    if (!slotId) throw new Error('a slot tile without data-slot-id');
    const tile = page.locator(`[data-testid="slot-tile"][data-slot-id="${slotId}"]`);
    await screenshot(page, 'two-servers-a-before');

    // The page re-reads the floor only on (re)connect: after this point a tile can change only
    // by a socket event, and A's own relay is off.
    const floorReads: string[] = [];
    page.on('request', (request: Request) => {
      if (new URL(request.url()).pathname === '/api/floor') floorReads.push(request.url());
    });
    await recordTileStates(page, `[data-testid="slot-tile"][data-slot-id="${slotId}"]`);

    // Restore it again from A's drawer: the run goes to the agent, its updates come back via B.
    await tile.click();
    const drawer = page.getByTestId('slot-drawer');
    await drawer.waitFor();
    const [started] = await Promise.all([
      page.waitForResponse(
        (r) =>
          r.request().method() === 'POST' && /\/api\/slots\/[^/]+\/runs$/.test(new URL(r.url()).pathname),
      ),
      drawer.getByTestId('action-start').click(),
    ]);
    expect(started.status()).toBe(201);
    await page.getByTestId('drawer-close').click();

    await page
      .locator(`[data-testid="slot-tile"][data-slot-id="${slotId}"][data-state="restoring"]`)
      .waitFor({ timeout: 2 * 60_000 });
    await screenshot(page, 'two-servers-a-restoring');
    await page
      .locator(`[data-testid="slot-tile"][data-slot-id="${slotId}"][data-state="done"]`)
      .waitFor({ timeout: 3 * 60_000 });
    const states = await recordedTileStates(page);
    expect(states[0]).toBe('done');
    expect(states).toContain('restoring');
    expect(states.at(-1)).toBe('done');
    expect(floorReads).toEqual([]);
    await expect(page.evaluate('window.benchNoReload')).resolves.toBe(true);
    await screenshot(page, 'two-servers-a-done');

    // Only B reads the live feed: A never joined the relay group, so what A's browser saw came
    // through the socket.io Redis adapter.
    const consumers = await relayConsumers(bench.state().redis.url);
    expect(consumers.some((name) => name.endsWith(`-${serverB.pid}`))).toBe(true);
    expect(consumers.filter((name) => name.endsWith(`-${serverA?.pid}`))).toEqual([]);
    expect(serverA.process.child.exitCode).toBeNull();
  });
});
