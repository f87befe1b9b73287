// `npm run bench:dashboard`: the live floor under load. 128 slots, each changing 5 times a second
// (640 live updates/s), from the agents' live feed to the tiles in a real browser. Targets
// (issue 8, acceptance 4): server CPU (reported), event → browser DOM update latency p99 < 250 ms.
//
// Set-up: a server process (dist/apps/server, as `bench start` forks it) on its own redis-server
// and a fresh SQLite database holding one host with one 128-slot bench (16 rows × 8 columns), and
// an admin. This process plays the agents: for every slot, 5 times a second, it writes the slot's
// live view to the live hash and the live feed exactly as the agent's SlotBoard does (LiveState,
// LiveFeedPublisher), each update carrying a marker "evt <slot> <seq>" in its detail. Debian's
// Chromium (playwright-core) logs in to the dashboard; a MutationObserver in the page stamps the
// moment each tile's note changes (performance.timeOrigin + performance.now(), the same wall clock
// as the publisher's) and, for the record, the next animation frame after it. Where the time goes
// is stamped too: each WebSocket message as the page receives it, and each update as a Node
// socket.io client beside the browser receives it (the server's share).
//
// The server relays the newest update of each slot per read and the dashboard renders once per
// animation frame, so not every update is drawn. Two latencies are reported: for the updates that
// were drawn, publish → their DOM change; and for every update published, publish → the first
// DOM change showing it or a newer update of the same slot (how stale the wall screen is).
//
// `node dist/benchmarks/dashboard.bench.js --profile` also profiles the page for 15 s of the
// warm-up: a JS CPU profile (var/bench-dashboard.cpuprofile, top functions printed) and a trace of
// the page's main thread (style, layout, paint… in thread CPU time).
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { io, type Socket } from 'socket.io-client';
import { childEnvironment } from '@bench/config';
import { createRedis, LiveFeedPublisher, LiveState, probeRedis, type LiveSlot } from '@bench/jobs';
import { BenchDatabase, hashPassword, TopologyRepository, UserRepository } from '@bench/persistence';
import { freePort } from './bench-process';
import { MiB, record, table } from './bench-report';
import { processCpuSeconds, processMemory } from './proc-stats';
import { mean, percentile, verdict } from './stats';

const ROOT = path.resolve(__dirname, '../..');
const SERVER_ENTRY = path.join(ROOT, 'dist/apps/server/src/main.js');
const CHROMIUM_PATH = '/usr/bin/chromium';
const VIEWPORT = { width: 1920, height: 1080 };
const SCREENSHOT = path.join(ROOT, 'test-results', 'dashboard', 'bench-dashboard.png');

const SLOTS = 128;
const EVENTS_PER_SECOND = 5;
const PERIOD_MS = 1_000 / EVENTS_PER_SECOND;
const COLUMNS = 8;
const WARMUP_MS = 10_000;
const WINDOW_MS = 60_000;
const DRAIN_MS = 3_000;
const SAMPLE_EVERY_MS = 1_000;
const TARGET_P99_MS = 250;
const HOST_ID = 'dash-host';
const BENCH_ID = 'dash-bench';
const USER = { username: 'bench-admin', password: 'dashboard-benchmark' };

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** Wall-clock milliseconds with sub-millisecond resolution (the browser stamps the same way). */
const wallNow = () => performance.timeOrigin + performance.now();

function portPathOf(index: number): string {
  return `${1 + Math.floor(index / 16)}-1.${(index % 16) + 1}`;
}

function labelOf(index: number): string {
  return `S${String(index + 1).padStart(3, '0')}`;
}

async function startRedis(dir: string): Promise<{ child: ChildProcess; url: string }> {
  const port = await freePort();
  // prettier-ignore
  const child = spawn('redis-server', [
    '--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no',
    '--maxmemory-policy', 'noeviction', '--daemonize', 'no',
  ], { stdio: 'ignore' });
  const url = `redis://127.0.0.1:${port}`;
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) break;
    if ((await probeRedis(url, 500)).ok) return { child, url };
    await sleep(100);
  }
  child.kill('SIGKILL');
  throw new Error(`redis-server did not start on port ${port}`);
}

/** The database the server reads: migrated, one host with one 128-slot bench, and an admin. */
async function prepareDatabase(databaseUrl: string, home: string): Promise<void> {
  const database = BenchDatabase.fromUrl(databaseUrl, home);
  try {
    await database.migrate();
    await new TopologyRepository(database).syncHost(HOST_ID, HOST_ID, [
      {
        id: BENCH_ID,
        name: 'Dashboard bench',
        slots: Array.from({ length: SLOTS }, (_, index) => ({
          portPath: portPathOf(index),
          label: labelOf(index),
          gridRow: 1 + Math.floor(index / COLUMNS),
          gridCol: 1 + (index % COLUMNS),
        })),
      },
    ]);
    await new UserRepository(database).create({
      username: USER.username,
      role: 'admin',
      passwordHash: await hashPassword(USER.password),
    });
  } finally {
    await database.close();
  }
}

interface Server {
  child: ChildProcess;
  port: number;
  pid: number;
}

async function startServer(env: Record<string, string>): Promise<Server> {
  const child = fork(SERVER_ENTRY, [], {
    env: childEnvironment({ BENCH_CONFIG: undefined, BENCH_SIMULATE: undefined, ...env }),
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  return new Promise<Server>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the server was not ready in 60 s')), 60_000);
    child.once('exit', (code) =>
      reject(new Error(`the server exited with code ${code} before it was ready`)),
    );
    child.on('message', (message: { type?: string; port?: number; pid?: number }) => {
      if (message.type !== 'ready') return;
      clearTimeout(timer);
      resolve({ child, port: message.port as number, pid: message.pid as number });
    });
  });
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await Promise.race([exited, sleep(20_000)]);
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
}

/** CPU seconds of this process's descendants other than `excluded` (the browser's processes). */
function descendantCpuSeconds(excluded: Set<number>): number {
  const parents = new Map<number, number>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      parents.set(Number(name), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // The process ended while we looked.
    }
  }
  const isOurs = (pid: number): boolean => {
    for (let at = parents.get(pid); at !== undefined && at > 1; at = parents.get(at)) {
      if (excluded.has(at)) return false;
      if (at === process.pid) return true;
    }
    return false;
  };
  let seconds = 0;
  for (const pid of parents.keys()) {
    if (excluded.has(pid) || !isOurs(pid)) continue;
    try {
      seconds += processCpuSeconds(pid);
    } catch {
      // Gone.
    }
  }
  return seconds;
}

// Runs in the page: every change of a tile's note ("evt <slot> <seq>") is stamped, and so is the
// next animation frame. A plain script (the benchmarks are compiled without DOM types).
const OBSERVER_SCRIPT = `(() => {
  const seen = [];
  const lastSeq = new Map();
  let framePending = [];
  let frameRequested = false;
  const marker = /evt (\\d+) (\\d+)/;
  const stamp = () => performance.timeOrigin + performance.now();
  const observer = new MutationObserver((mutations) => {
    const at = stamp();
    const tiles = new Set();
    for (const mutation of mutations) {
      const node = mutation.target;
      const element = node.nodeType === 1 ? node : node.parentElement;
      const tile = element && element.closest('[data-testid="slot-tile"]');
      if (tile) tiles.add(tile);
      for (const added of mutation.addedNodes) {
        if (added.nodeType !== 1) continue;
        if (added.matches('[data-testid="slot-tile"]')) tiles.add(added);
        for (const inner of added.querySelectorAll('[data-testid="slot-tile"]')) tiles.add(inner);
      }
    }
    for (const tile of tiles) {
      const note = tile.querySelector('.tile-note');
      const match = note && marker.exec(note.textContent || '');
      if (!match) continue;
      const slot = Number(match[1]);
      const seq = Number(match[2]);
      if (lastSeq.get(slot) === seq) continue;
      lastSeq.set(slot, seq);
      const entry = [slot, seq, at, 0];
      seen.push(entry);
      framePending.push(entry);
    }
    if (framePending.length > 0 && !frameRequested) {
      frameRequested = true;
      requestAnimationFrame(() => {
        frameRequested = false;
        const frame = stamp();
        for (const entry of framePending) entry[3] = frame;
        framePending = [];
      });
    }
  });
  observer.observe(document.body, { subtree: true, childList: true, characterData: true });
  window.__benchSeen = seen;
})()`;

// Installed before the dashboard loads: stamps each socket.io frame carrying a marker as the page
// receives it, to tell the network and server's share of the latency from the page's.
const RECEIVE_SCRIPT = `(() => {
  const received = [];
  const marker = /evt (\\d+) (\\d+)/;
  const Native = window.WebSocket;
  class StampedWebSocket extends Native {
    constructor(...args) {
      super(...args);
      this.addEventListener('message', (event) => {
        if (typeof event.data !== 'string') return;
        const match = marker.exec(event.data);
        if (match) received.push([Number(match[1]), Number(match[2]), performance.timeOrigin + performance.now()]);
      });
    }
  }
  window.WebSocket = StampedWebSocket;
  window.__benchReceived = received;
})()`;

type Seen = [slot: number, seq: number, domAt: number, frameAt: number];

interface Published {
  sentAt: number[][]; // [slot][seq]
}

interface CpuProfile {
  nodes: {
    id: number;
    callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  }[];
  samples: number[];
  timeDeltas: number[];
}

/**
 * `--profile`: 10 s of the page's main thread under load (before the window), saved as
 * var/bench-dashboard.cpuprofile (open in Chrome DevTools), and the top functions by self time.
 */
async function profilePage(page: Page): Promise<void> {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Profiler.enable');
  await cdp.send('Profiler.start');
  await sleep(10_000);
  const { profile } = (await cdp.send('Profiler.stop')) as unknown as { profile: CpuProfile };
  const file = path.join(ROOT, 'var', 'bench-dashboard.cpuprofile');
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, JSON.stringify(profile));
  const byNode = new Map(profile.nodes.map((node) => [node.id, node.callFrame]));
  const self = new Map<string, number>();
  profile.samples.forEach((id, index) => {
    const frame = byNode.get(id);
    const key = frame
      ? `${frame.functionName || '(anonymous)'} ${path.basename(frame.url)}:${frame.lineNumber}:${frame.columnNumber}`
      : '?';
    self.set(key, (self.get(key) ?? 0) + (profile.timeDeltas[index] ?? 0) / 1000);
  });
  const top = [...self].sort((a, b) => b[1] - a[1]).slice(0, 25);
  process.stdout.write(`page profile (${file}), self time over 10 s:\n`);
  for (const [key, ms] of top) process.stdout.write(`  ${ms.toFixed(0).padStart(6)} ms  ${key}\n`);
  await cdp.detach();

  // Where the main thread's time goes (style, layout, paint…): thread CPU time from a 5 s trace,
  // which other processes on the machine do not inflate as they do wall time.
  const browser = page.context().browser() as Browser;
  await browser.startTracing(page, { categories: ['devtools.timeline'] });
  await sleep(5_000);
  const { traceEvents } = JSON.parse((await browser.stopTracing()).toString('utf8')) as {
    traceEvents: TraceEvent[];
  };
  const main = traceEvents.find(
    (event) => event.name === 'thread_name' && event.args?.name === 'CrRendererMain',
  );
  const onMain = traceEvents.filter(
    (event) => event.ph === 'X' && event.tid === main?.tid && event.pid === main?.pid,
  );
  const byName = new Map<string, { ms: number; count: number }>();
  for (const event of onMain) {
    const entry = byName.get(event.name) ?? { ms: 0, count: 0 };
    entry.ms += (event.tdur ?? event.dur ?? 0) / 1000;
    entry.count++;
    byName.set(event.name, entry);
  }
  const layouts = onMain.filter((event) => event.name === 'Layout');
  const dirty = layouts.reduce((total, event) => total + (event.args?.beginData?.dirtyObjects ?? 0), 0);
  const layoutMs = byName.get('Layout')?.ms ?? 0;
  process.stdout.write(
    `page main thread, thread CPU time over 5 s (layout: ${dirty} dirty objects in ${layouts.length} layouts, ` +
      `${((layoutMs * 1000) / Math.max(1, dirty)).toFixed(0)} µs each):\n`,
  );
  for (const [name, { ms, count }] of [...byName].sort((a, b) => b[1].ms - a[1].ms).slice(0, 12))
    process.stdout.write(`  ${ms.toFixed(0).padStart(6)} ms  ${String(count).padStart(5)}×  ${name}\n`);
}

interface TraceEvent {
  name: string;
  ph: string;
  pid: number;
  tid: number;
  dur?: number;
  tdur?: number;
  args?: { name?: string; beginData?: { dirtyObjects?: number } };
}

async function main(): Promise<void> {
  process.stdout.write(
    `bench:dashboard: ${SLOTS} slots × ${EVENTS_PER_SECOND} events/s, about ${Math.ceil((WARMUP_MS + WINDOW_MS + DRAIN_MS) / 60_000) + 1} minutes\n`,
  );
  const home = mkdtempSync(path.join(tmpdir(), 'bench-dashboard-'));
  mkdirSync(path.join(home, 'var'), { recursive: true });
  const databaseUrl = `file:${path.join(home, 'var/bench.db')}`;
  let redisChild: ChildProcess | undefined;
  let server: Server | undefined;
  let browser: Browser | undefined;
  const connections: { disconnect(): void }[] = [];
  try {
    const redis = await startRedis(path.join(home, 'var'));
    redisChild = redis.child;
    await prepareDatabase(databaseUrl, home);
    server = await startServer({
      BENCH_HOME: home,
      REDIS_URL: redis.url,
      DATABASE_URL: databaseUrl,
      BENCH_HOST_ID: 'dash-server',
      BENCH_SERVER_PORT: '0',
      BENCH_SERVER_BIND: '127.0.0.1',
      LOG_FORMAT: 'json',
      LOG_LEVEL: 'warn',
    });
    const serverUrl = `http://127.0.0.1:${server.port}/`;

    // The agents' side: the live hash and the live feed, one connection as an agent has.
    const agentRedis = createRedis(redis.url, 'worker');
    connections.push(agentRedis);
    const live = new LiveState(agentRedis);
    const feed = new LiveFeedPublisher(agentRedis);
    await live.heartbeat(HOST_ID, Date.now());

    // Diagnostic: a Node socket.io client beside the browser, to tell server latency from page latency.
    const login = await fetch(`${serverUrl}api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(USER),
    });
    const { token } = (await login.json()) as { token: string };
    const nodeReceived: [number, number, number][] = [];
    const socket: Socket = io(serverUrl, { path: '/socket.io', auth: { token }, transports: ['websocket'] });
    connections.push(socket);
    socket.on('connect', () => socket.emit('subscribe', { all: true }));
    socket.on('slot.updated', (slot: { detail?: string }) => {
      const match = /evt (\d+) (\d+)/.exec(slot.detail ?? '');
      if (match) nodeReceived.push([Number(match[1]), Number(match[2]), wallNow()]);
    });

    browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: ['--no-sandbox'] });
    const page = await browser.newPage({ viewport: VIEWPORT });
    await page.addInitScript(RECEIVE_SCRIPT);
    await page.goto(serverUrl);
    await page.getByTestId('login-username').fill(USER.username);
    await page.getByTestId('login-password').fill(USER.password);
    await page.getByTestId('login-submit').click();
    await page
      .locator('[data-testid="slot-tile"]')
      .nth(SLOTS - 1)
      .waitFor({ timeout: 60_000 });
    const tiles = await page.locator('[data-testid="slot-tile"]').count();
    if (tiles !== SLOTS) throw new Error(`the dashboard shows ${tiles} tiles, expected ${SLOTS}`);
    await page.evaluate(OBSERVER_SCRIPT);

    // Publishing: slot i is due every 200 ms, phases spread evenly over the period.
    const published: Published = { sentAt: Array.from({ length: SLOTS }, () => []) };
    const started = wallNow();
    const nextDue = Array.from({ length: SLOTS }, (_, index) => started + (index * PERIOD_MS) / SLOTS);
    let publishing = true;
    let publishErrors = 0;
    let lateMs = 0;
    const publishSlot = (index: number) => {
      const seq = published.sentAt[index].length;
      const sentAt = wallNow();
      published.sentAt[index].push(sentAt);
      const slot: LiveSlot = {
        hostId: HOST_ID,
        portPath: portPathOf(index),
        label: labelOf(index),
        benchId: BENCH_ID,
        state: 'restoring',
        ecid: (0x1000_0000_0000 + index).toString(16).toUpperCase(),
        runId: `run-${index}`,
        mode: 'restore',
        stage: 'send-filesystem',
        percent: seq % 100,
        etaSeconds: 600 - (seq % 600),
        attempt: 1,
        maxAttempts: 3,
        detail: `evt ${index} ${seq}`,
        productType: 'iPhone14,2',
        fromVersion: '17.5',
        toVersion: '18.1',
        batteryLevel: 80,
        cableScore: 100,
        linkSpeedMbps: 480,
        updatedAt: Date.now(),
      };
      // As SlotBoard.flush: the hash and the feed, neither awaited by the next update.
      void Promise.all([live.putSlot(slot), feed.publish(slot)]).catch(() => publishErrors++);
    };
    const publisher = (async () => {
      while (publishing) {
        const now = wallNow();
        for (let index = 0; index < SLOTS; index++) {
          if (nextDue[index] > now) continue;
          lateMs = Math.max(lateMs, now - nextDue[index]);
          publishSlot(index);
          nextDue[index] += PERIOD_MS;
        }
        await sleep(2);
      }
    })();
    const heartbeat = setInterval(
      () => void live.heartbeat(HOST_ID, Date.now()).catch(() => undefined),
      5_000,
    );

    await sleep(WARMUP_MS);
    if (process.argv.includes('--profile')) await profilePage(page);
    const excluded = new Set([server.pid, redisChild.pid as number]);
    const loadBefore = loadavg()[0];
    const windowStart = wallNow();
    const cpuBefore = processCpuSeconds(server.pid);
    const browserCpuBefore = descendantCpuSeconds(excluded);
    const ownCpuBefore = process.cpuUsage();
    const rss: number[] = [];
    while (wallNow() - windowStart < WINDOW_MS) {
      rss.push(processMemory(server.pid).rssBytes);
      await sleep(SAMPLE_EVERY_MS);
    }
    const windowEnd = wallNow();
    const loadAfter = loadavg()[0];
    const windowSeconds = (windowEnd - windowStart) / 1000;
    const cpuSeconds = processCpuSeconds(server.pid) - cpuBefore;
    const browserCpuSeconds = descendantCpuSeconds(excluded) - browserCpuBefore;
    const ownCpu = process.cpuUsage(ownCpuBefore);
    const peakRss = processMemory(server.pid).peakRssBytes;
    // A little beyond the window, so the window's last updates can still be drawn; the floor under
    // load for a person to look at.
    await sleep(1_000);
    mkdirSync(path.dirname(SCREENSHOT), { recursive: true });
    await page.screenshot({ path: SCREENSHOT });
    publishing = false;
    await publisher;
    clearInterval(heartbeat);
    await sleep(DRAIN_MS);
    const seen = (await page.evaluate('window.__benchSeen')) as Seen[];
    const received = (await page.evaluate('window.__benchReceived')) as [number, number, number][];

    // Updates published in the window, and what the page drew of them.
    const inWindow = (sentAt: number) => sentAt >= windowStart && sentAt < windowEnd;
    const seenBySlot: Seen[][] = Array.from({ length: SLOTS }, () => []);
    for (const entry of seen) seenBySlot[entry[0]]?.push(entry);
    for (const list of seenBySlot) list.sort((a, b) => a[2] - b[2]);
    const drawn: number[] = [];
    const drawnFrame: number[] = [];
    const newest: number[] = [];
    const arrived: number[] = [];
    for (const [index, seq, at] of received) {
      const sentAt = published.sentAt[index]?.[seq];
      if (sentAt !== undefined && inWindow(sentAt)) arrived.push(at - sentAt);
    }
    const nodeArrived: number[] = [];
    for (const [index, seq, at] of nodeReceived) {
      const sentAt = published.sentAt[index]?.[seq];
      if (sentAt !== undefined && inWindow(sentAt)) nodeArrived.push(at - sentAt);
    }
    let publishedInWindow = 0;
    let neverShown = 0;
    for (let index = 0; index < SLOTS; index++) {
      const sentAt = published.sentAt[index];
      const list = seenBySlot[index];
      for (const [, seq, domAt, frameAt] of list) {
        if (seq >= sentAt.length || !inWindow(sentAt[seq])) continue;
        drawn.push(domAt - sentAt[seq]);
        if (frameAt > 0) drawnFrame.push(frameAt - sentAt[seq]);
      }
      // Every update: the first DOM change showing it or a newer update of the slot.
      let cursor = 0;
      for (let seq = 0; seq < sentAt.length; seq++) {
        if (!inWindow(sentAt[seq])) continue;
        publishedInWindow++;
        while (cursor < list.length && list[cursor][1] < seq) cursor++;
        if (cursor < list.length) newest.push(list[cursor][2] - sentAt[seq]);
        else neverShown++;
      }
    }

    const summary = (samples: number[]) =>
      `p50 ${percentile(samples, 50).toFixed(0)}, p95 ${percentile(samples, 95).toFixed(0)}, ` +
      `p99 ${percentile(samples, 99).toFixed(0)}, max ${Math.max(...samples).toFixed(0)} ms`;
    const corePercent = (cpuSeconds / windowSeconds) * 100;
    const p99Newest = percentile(newest, 99);
    const p99Drawn = percentile(drawn, 99);
    const chromiumVersion = browser.version();
    const rate = publishedInWindow / windowSeconds;
    const body = [
      `${SLOTS} slots on one bench (${SLOTS / COLUMNS} rows × ${COLUMNS} columns), each publishing ${EVENTS_PER_SECOND} live updates/s, phases spread evenly`,
      `(${rate.toFixed(0)} updates/s measured), as the agent's SlotBoard does (live hash and \`bench:live\` stream through LiveState and`,
      'LiveFeedPublisher) from the benchmark process, to the built server (`dist/apps/server`, its own redis-server, a fresh SQLite',
      `database) and on to the dashboard in Chromium ${chromiumVersion} (playwright-core, headless, ${VIEWPORT.width}×${VIEWPORT.height}, logged in, all ${SLOTS} tiles`,
      'in the DOM). Each update carries a marker in its detail; the publisher stamps it just before XADD and a MutationObserver in',
      "the page stamps each change of a tile's note, both with `performance.timeOrigin + performance.now()` (one machine clock).",
      `Window: ${windowSeconds.toFixed(0)} s after ${WARMUP_MS / 1000} s of warm-up; the updates sent in it count, each with at least ${(1000 + DRAIN_MS) / 1000} s to show.`,
      'The relay sends the newest update of a slot per stream read and the page draws once per animation frame, so an update',
      `overtaken within a frame is never drawn: ${drawn.length} of ${publishedInWindow} (${((drawn.length / publishedInWindow) * 100).toFixed(1)} %) were drawn. "Any update → newest state`,
      `shown" is, for every update published, the time until its tile shows it or a newer update of the slot (${neverShown} never shown).`,
      "A Node socket.io client subscribes beside the browser (two subscribers), to tell the server's share of the latency from the",
      "page's. Server CPU and RSS: the server process only (/proc/<pid>/stat, status). The browser (all its processes,",
      `${((browserCpuSeconds / windowSeconds) * 100).toFixed(0)} % of one core in the window), the publisher (this process, ${(((ownCpu.user + ownCpu.system) / 1e6 / windowSeconds) * 100).toFixed(0)} %) and Redis share the two cores, and so`,
      `did other work on the machine (load average ${loadBefore.toFixed(1)} at the window's start, ${loadAfter.toFixed(1)} at its end). Publisher lateness at most`,
      `${lateMs.toFixed(0)} ms; ${publishErrors} publish errors.`,
      '',
      table(
        ['measure', 'result', 'target', ''],
        [
          [
            'any update → newest state shown in the DOM',
            `${summary(newest)} (${newest.length} updates)`,
            `p99 < ${TARGET_P99_MS} ms`,
            verdict(neverShown === 0 && p99Newest < TARGET_P99_MS),
          ],
          [
            'drawn update → its DOM change',
            `${summary(drawn)} (${drawn.length} updates)`,
            `p99 < ${TARGET_P99_MS} ms`,
            verdict(p99Drawn < TARGET_P99_MS),
          ],
          ['drawn update → next animation frame', `${summary(drawnFrame)}`, '', ''],
          [
            'relayed update → received by the page (WebSocket message)',
            `${summary(arrived)} (${arrived.length} updates)`,
            '',
            '',
          ],
          [
            'relayed update → received by a Node socket.io client',
            `${summary(nodeArrived)} (${nodeArrived.length} updates)`,
            '',
            '',
          ],
          [
            'server CPU, mean over the window',
            `${corePercent.toFixed(1)} % of one core (${cpuSeconds.toFixed(1)} CPU-s in ${windowSeconds.toFixed(0)} s)`,
            '',
            '',
          ],
          [
            'server RSS',
            `${(Math.max(...rss) / MiB).toFixed(0)} MB in the window (mean ${(mean(rss) / MiB).toFixed(0)} MB), peak ${(peakRss / MiB).toFixed(0)} MB since start`,
            '',
            '',
          ],
        ],
      ),
    ].join('\n');
    process.stdout.write(`\n${body}\n`);
    record(ROOT, 'Dashboard, 128 slots at 5 events/s (bench:dashboard)', 'npm run bench:dashboard', body);
  } finally {
    await browser?.close().catch(() => undefined);
    for (const connection of connections) connection.disconnect();
    if (server) await stopChild(server.child);
    if (redisChild) await stopChild(redisChild);
    rmSync(home, { recursive: true, force: true });
  }
}

void main().catch((error: unknown) => {
  process.stderr.write(`bench:dashboard failed: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
