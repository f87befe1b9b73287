// Several bench PCs on one server (issue 9): host A is `bench start` (server + agent, its slots in
// bench.config.yaml), host B is a second bench agent on the same Redis that the config does not
// list, the way a second PC joins a shop. The dashboard groups the floor by host. When host B's
// agent dies (SIGKILL: a crash or a pulled power cord, the hard case: no goodbye, nothing cleaned
// up, only the missing heartbeat tells) its slots turn "host offline" within 30 s, while host A's
// restores carry on to done untouched and host B's runs stay in the record and on their queues;
// when host B's agent is back, its slots are live again and its runs go on.
import type { ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Browser, Page, Request } from 'playwright-core';
import type { FloorView } from '@bench/events';
import { createRedis, LiveState, RestoreQueues } from '@bench/jobs';
import { tempDir, waitFor, type WatchedProcess } from '@bench/testing';
import { ApiClient } from '../support/api-client';
import { forkApp, startBench, type RunningBench } from './bench-process.helper';
import { addUser, launchBrowser, logIn, openDashboard, screenshot } from './dashboard.helper';

jest.setTimeout(5 * 60_000);

const ADMIN = { username: 'admin', password: 'correct horse battery', role: 'admin' } as const;
const PHONES = 3;
const PORTS = ['1-1.1', '1-1.2', '1-1.3'];
/**
 * Host A restores a phone in about 50 s at 10× (long enough to be mid-restore through host B's
 * whole offline detection, short enough to finish soon after); host B at 2× takes minutes, so its
 * runs are surely mid-restore when its agent is killed.
 */
const SPEED_A = '10';
const SPEED_B = '2';
/** Host A's slots are configured, without auto-start: the test starts its runs when it wants them. */
const CONFIG = `hosts:
  - id: host-a
    name: Bench A
    benches:
      - id: host-a-shelf
        name: Shelf A
        autoStart: null
        slots:
${PORTS.map((port, i) => `          - { port: "${port}", label: A${i + 1}, grid: { row: 1, col: ${i + 1} } }`).join('\n')}
`;
const OFFLINE_WITHIN_MS = 30_000;

const group = (hostId: string) => `[data-testid="host-group"][data-host-id="${hostId}"]`;
const tiles = (hostId: string, extra = '') => `${group(hostId)} [data-testid="slot-tile"]${extra}`;

interface AgentProcess {
  process: WatchedProcess;
  child: ChildProcess;
  stop(): Promise<void>;
}

/**
 * Host B's bench agent, the way `bench start` forks one (child-supervisor.ts), on host A's Redis
 * and with its own home (its simulated firmware); started again on the same home, it is the same
 * PC coming back.
 */
async function startAgentB(bench: RunningBench, home: string): Promise<AgentProcess> {
  const { child, process: watched } = await forkApp(
    'bench-agent',
    {
      BENCH_HOME: home,
      REDIS_URL: bench.state().redis.url,
      BENCH_HOST_ID: 'host-b',
      BENCH_AGENT_PORT: '0',
      BENCH_SIMULATE: String(PHONES),
      BENCH_SIM_SPEED: SPEED_B,
      // Other phones than host A's (the seed draws the ECIDs): a phone restores on one bench only.
      BENCH_SIM_SEED: '2',
      BENCH_SIM_PORTS_PER_CONTROLLER: String(PHONES),
    },
    home,
  );
  return {
    process: watched,
    child,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGKILL');
      await watched.exited;
    },
  };
}

/** Waits until exactly `count` elements match (page-side code goes in as a string: no DOM types here). */
async function waitForCount(page: Page, selector: string, count: number, timeout: number): Promise<void> {
  await page.waitForFunction(
    `document.querySelectorAll(${JSON.stringify(selector)}).length === ${count}`,
    undefined,
    { timeout },
  );
}

function payloadOf(event: { payload: string | null }): { state?: string; outcome?: string } {
  return JSON.parse(event.payload ?? '{}') as { state?: string; outcome?: string };
}

describe('several hosts on one server', () => {
  let bench: RunningBench | undefined;
  let agentB: AgentProcess | undefined;
  let browser: Browser | undefined;
  const fixtures = tempDir('several-hosts-');
  const homeB = tempDir('bench-e2e-host-b-');

  afterAll(async () => {
    await browser?.close();
    await agentB?.stop();
    await bench?.stop();
    homeB.remove();
    fixtures.remove();
  });

  it("shows both hosts; a killed agent's slots turn offline within 30 s and the other host's runs finish untouched", async () => {
    const configFile = path.join(fixtures.dir, 'bench.config.yaml');
    writeFileSync(configFile, CONFIG);
    bench = await startBench(['--simulate', String(PHONES), '--speed', SPEED_A, '--seed', '1'], {
      BENCH_HOST_ID: 'host-a',
      BENCH_CONFIG: configFile,
      BENCH_SIM_PORTS_PER_CONTROLLER: String(PHONES),
    });
    await addUser(bench.home, ADMIN);
    const api = await ApiClient.login(bench.serverUrl(), ADMIN.username, ADMIN.password);

    // One host: the floor looks as it always did, no host headings.
    browser = await launchBrowser();
    const page = await openDashboard(browser, bench.serverUrl());
    await logIn(page, ADMIN.username, ADMIN.password);
    await page.getByTestId('floor').waitFor();
    await waitForCount(page, '[data-testid="slot-tile"]', PHONES, 60_000);
    await page.getByTestId('connection-banner').waitFor({ state: 'detached', timeout: 30_000 });
    await expect(page.getByTestId('host-group').count()).resolves.toBe(0);

    // Host B joins: the open dashboard groups the floor by host without anyone reloading it.
    await page.evaluate('window.benchNoReload = true');
    agentB = await startAgentB(bench, homeB.dir);
    for (const hostId of ['host-a', 'host-b']) {
      // data-online appears once the server has described the host (its first heartbeat).
      await page.locator(`${group(hostId)}[data-online="true"]`).waitFor({ timeout: 60_000 });
      await expect(
        page.locator(`${group(hostId)} [data-testid="host-status"]`).textContent(),
      ).resolves.toMatch(/^\s*online$/);
    }
    await waitForCount(page, tiles('host-a'), PHONES, 30_000);
    await waitForCount(page, tiles('host-b'), PHONES, 30_000);
    // The server's config names host A; host B, which it does not list, goes by its id.
    await expect(
      page
        .locator(`${group('host-a')} .host-name > span`)
        .first()
        .textContent(),
    ).resolves.toBe('Bench A');
    await expect(
      page
        .locator(`${group('host-b')} .host-name > span`)
        .first()
        .textContent(),
    ).resolves.toBe('host-b');
    await expect(page.evaluate('window.benchNoReload')).resolves.toBe(true);

    // Runs on both hosts: host B's phones auto-started on plug; host A's are started here.
    const floor = await api.call<FloorView>('floor');
    expect(floor.status).toBe(200);
    const slotsA = floor.body.slots.filter((slot) => slot.hostId === 'host-a');
    expect(slotsA.map((slot) => slot.label).sort()).toEqual(['A1', 'A2', 'A3']);
    for (const slot of slotsA) {
      const started = await api.call('startRun', { slotId: slot.id }, {});
      expect(started.status).toBe(201);
    }
    await waitForCount(page, tiles('host-a', '[data-state="restoring"]'), PHONES, 60_000);
    await waitForCount(page, tiles('host-b', '[data-state="restoring"]'), PHONES, 60_000);
    await screenshot(page, 'several-hosts-both-online');

    // Host B's agent crashes. From here the page may learn of it only over the socket.
    const floorReads: string[] = [];
    page.on('request', (request: Request) => {
      if (new URL(request.url()).pathname === '/api/floor') floorReads.push(request.url());
    });
    const killedAt = Date.now();
    await agentB.stop();

    await page
      .locator(`${group('host-b')}[data-online="false"]`)
      .waitFor({ timeout: OFFLINE_WITHIN_MS + 10_000 });
    await waitForCount(page, tiles('host-b', '[data-host-offline="true"]'), PHONES, 5_000);
    const offlineAfterMs = Date.now() - killedAt;
    expect(offlineAfterMs).toBeLessThan(OFFLINE_WITHIN_MS);
    // Host A is untouched on the floor: online, its tiles live.
    await expect(page.locator(`${group('host-a')}[data-online="true"]`).count()).resolves.toBe(1);
    await expect(page.locator(tiles('host-a', '[data-host-offline]')).count()).resolves.toBe(0);
    // Host B's tiles say so, keep the last known state as secondary text, and show nothing live.
    const offlineTile = page.locator(tiles('host-b')).first();
    await expect(offlineTile.getByTestId('tile-host-offline').textContent()).resolves.toBe('host offline');
    await expect(offlineTile.getByTestId('tile-last-known').textContent()).resolves.toMatch(
      /^last known: restoring/,
    );
    await expect(page.locator(tiles('host-b', ' [data-testid="tile-progress"]')).count()).resolves.toBe(0);
    await expect(
      page.locator(`${group('host-b')} [data-testid="host-status"]`).textContent(),
    ).resolves.toMatch(/offline · last seen \d+ s ago/);
    await expect(page.getByTestId('hosts-offline').textContent()).resolves.toContain('host-b');
    await screenshot(page, 'several-hosts-b-offline');

    // "Needs me" lists host B's interrupted restores first; host A's running ones are calm.
    await page.getByTestId('filter-needs-me').click();
    await expect(page.getByTestId('filter-needs-me').textContent()).resolves.toMatch(
      new RegExp(`${PHONES}$`),
    );
    const listed = page.locator('.floor.needs-me [data-testid="slot-tile"]');
    for (let i = 0; i < PHONES; i++) {
      await expect(listed.nth(i).getAttribute('data-host-offline')).resolves.toBe('true');
      await expect(listed.nth(i).getAttribute('class')).resolves.not.toContain('dimmed');
    }
    await screenshot(page, 'several-hosts-needs-me');
    await page.getByTestId('filter-needs-me').click();

    // Host A's restores go on to done while host B stays offline.
    await waitForCount(page, tiles('host-a', '[data-state="done"]'), PHONES, 2 * 60_000);
    await expect(page.locator(tiles('host-b', '[data-host-offline="true"]')).count()).resolves.toBe(PHONES);
    expect(floorReads).toEqual([]);
    await expect(page.evaluate('window.benchNoReload')).resolves.toBe(true);
    await screenshot(page, 'several-hosts-a-done');

    // The record: host A's runs ran on through the crash, one attempt each, nothing cancelled,
    // failed or retried; host B's runs are kept, unfinished, their jobs still held on B's queues.
    const prisma = bench.database().prisma;
    const runsA = await prisma.run.findMany({ where: { hostId: 'host-a' }, include: { attempts: true } });
    expect(runsA).toHaveLength(PHONES);
    const eventsA = await prisma.event.findMany({ where: { runId: { in: runsA.map((run) => run.id) } } });
    for (const run of runsA) {
      expect({ port: run.portPath, state: run.state }).toEqual({ port: run.portPath, state: 'done' });
      expect(run.attempts.map((attempt) => attempt.outcome)).toEqual(['done']);
      expect(run.finishedAt?.getTime()).toBeGreaterThan(killedAt);
      const mine = eventsA.filter((event) => event.runId === run.id);
      // It made progress after host B died (stages reached after the kill).
      expect(mine.some((event) => event.kind === 'restore.stage' && event.at.getTime() > killedAt)).toBe(
        true,
      );
      expect(
        mine.filter((event) => event.kind === 'run.ended').map((event) => payloadOf(event).state),
      ).toEqual(['done']);
    }
    expect(eventsA.filter((event) => event.kind === 'operator.action')).toEqual([]);
    expect(
      eventsA.filter((event) => event.kind === 'attempt.ended' && payloadOf(event).outcome !== 'done'),
    ).toEqual([]);

    const runsB = await prisma.run.findMany({ where: { hostId: 'host-b' } });
    expect(runsB).toHaveLength(PHONES);
    expect(runsB.map((run) => ({ state: run.state, finishedAt: run.finishedAt }))).toEqual(
      runsB.map(() => ({ state: 'running', finishedAt: null })),
    );
    const redis = createRedis(bench.state().redis.url, 'producer', { enableOfflineQueue: true });
    const queues = new RestoreQueues(redis, new LiveState(redis));
    try {
      for (const run of runsB) {
        const job = await queues.queue('host-b', run.portPath).getJob(run.id);
        // Still the dead agent's: nothing on the server re-queued, cancelled or failed it.
        await expect(job?.getState()).resolves.toBe('active');
      }
    } finally {
      await queues.close();
      redis.disconnect();
    }

    // Host B's PC comes back: online again, its slots live, the same runs going on.
    agentB = await startAgentB(bench, homeB.dir);
    await page.locator(`${group('host-b')}[data-online="true"]`).waitFor({ timeout: 30_000 });
    await waitForCount(page, tiles('host-b', '[data-host-offline]'), 0, 10_000);
    const resumed = await waitFor(
      async () => {
        const now = await api.call<FloorView>('floor');
        const slotsB = now.body.slots.filter((slot) => slot.hostId === 'host-b');
        return slotsB.length === PHONES && slotsB.every((slot) => slot.state === 'restoring')
          ? slotsB
          : undefined;
      },
      90_000,
      "host B's runs to go on after its agent restarted",
    );
    expect(resumed.map((slot) => slot.runId).sort()).toEqual(runsB.map((run) => run.id).sort());
    await screenshot(page, 'several-hosts-b-back');
    process.stdout.write(`several-hosts: host B shown offline ${offlineAfterMs} ms after SIGKILL\n`);
  });
});
