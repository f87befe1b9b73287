// Acceptance (issue 9, batches): a batch scheduled for a time starts then, pre-fetches, runs on 32
// simulated slots, survives a server restart in the middle (SIGKILL; the `bench start`
// supervisor restarts the server), and every phone is restored exactly once: 32 runs, each with
// one run.ended event. Then the morning report (JSON, CSV, HTML) and the certificates: a
// certificate verifies, and a tampered one does not.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { topologyFor } from '@bench/device-sim';
import type { BatchReport, BatchView, RunView, SlotView } from '@bench/events';
import { isAlive, runBench, tempDir, waitFor } from '@bench/testing';
import { addUser, ApiClient } from '../support/api-client';
import { startBench, type RunningBench } from './bench-process.helper';
import { launchBrowser, logIn, openDashboard, screenshot } from './dashboard.helper';

jest.setTimeout(5 * 60_000);

const PHONES = 32;
const HOST = 'overnight-pc';
const START_IN_MS = 15_000;

/** The simulated bench's 32 ports, as `bench start --simulate 32` lays them out. */
function simulatedPorts(): string[] {
  return topologyFor(PHONES).controllers.flatMap((controller) =>
    controller.hubs.flatMap((hub) => Array.from({ length: hub.ports }, (_, i) => `${hub.path}.${i + 1}`)),
  );
}

/** One rack with every port and no auto-start (only the batch restores), and an overnight policy. */
function rackConfig(): string {
  const slots = simulatedPorts()
    .map((port, i) => `          - { port: "${port}", label: R${String(i + 1).padStart(2, '0')} }`)
    .join('\n');
  return `hosts:
  - id: ${HOST}
    benches:
      - id: rack
        name: Overnight rack
        slots:
${slots}
policies:
  overnight:
    rules:
      transient-usb: { action: retry, maxAttempts: 6, backoffMs: 2000 }
`;
}

describe('an overnight batch on 32 simulated slots', () => {
  let bench: RunningBench;
  const { dir, remove } = tempDir('bench-overnight-');
  afterAll(async () => {
    await bench?.stop();
    remove();
  });

  it('starts at its time, pre-fetches, survives a server restart and restores every phone once', async () => {
    const config = path.join(dir, 'bench.config.yaml');
    writeFileSync(config, rackConfig());
    bench = await startBench(['--simulate', String(PHONES), '--speed', '100'], {
      BENCH_CONFIG: config,
      BENCH_HOST_ID: HOST,
    });
    await addUser(bench.home, 'max', 'manager', 'manager-password');
    let manager = await ApiClient.login(bench.serverUrl(), 'max', 'manager-password');
    const slots = await waitFor(
      async () => {
        const rack = (await manager.call<SlotView[]>('slots')).body.filter((s) => s.benchId === 'rack');
        return rack.length === PHONES && rack.every((s) => s.ecid && s.productType) ? rack : undefined;
      },
      90_000,
      `${PHONES} identified phones on the rack`,
    );

    const startAt = new Date(Date.now() + START_IN_MS);
    const created = await manager.call<BatchView>(
      'createBatch',
      {},
      {
        name: 'Rack overnight',
        firmware: 'latest',
        behavior: 'erase',
        benchIds: ['rack'],
        startAt: startAt.toISOString(),
        policy: 'overnight',
      },
    );
    expect(created.status).toBe(201);
    const id = created.body.id;
    const view = async () => (await manager.call<BatchView>('batch', { batchId: id })).body;

    // Not before its time: scheduled, no run, no phone touched.
    while (Date.now() < startAt.getTime() - 2_000) {
      const now = await view();
      expect({ state: now.state, runs: now.progress.total, startedAt: now.startedAt }).toEqual({
        state: 'scheduled',
        runs: 0,
        startedAt: null,
      });
      await new Promise((r) => setTimeout(r, 1_000));
    }
    // Then: it starts, pre-fetches every model on the rack, and creates one run per phone.
    const running = await waitFor(
      async () => {
        const now = await view();
        return now.state === 'running' ? now : undefined;
      },
      60_000,
      'the batch to start running',
    );
    expect(Date.parse(running.startedAt as string)).toBeGreaterThanOrEqual(startAt.getTime());
    const models = [...new Set(slots.map((s) => s.productType as string))].sort();
    expect(running.prefetch.map((p) => p.productType).sort()).toEqual(models);
    for (const outcome of running.prefetch)
      expect(outcome).toMatchObject({
        hostId: HOST,
        fetched: true,
        signing: 'signed',
        build: expect.any(String),
      });

    // Kill the server in the middle: some phones restored, others still restoring.
    await waitFor(
      async () => {
        const { progress } = await view();
        return progress.total === PHONES && progress.done >= 4 && progress.unfinished >= 4
          ? progress
          : undefined;
      },
      120_000,
      'the batch to be under way',
    );
    const killed = bench.state().server?.pid as number;
    process.kill(killed, 'SIGKILL');
    await waitFor(() => !isAlive(killed) || undefined, 10_000, 'the server to die');
    await waitFor(
      () => (bench.state().server && bench.state().server?.pid !== killed) || undefined,
      60_000,
      'the supervisor to restart the server',
    );
    manager = await ApiClient.login(bench.serverUrl(), 'max', 'manager-password');

    const done = await waitFor(
      async () => {
        const now = await view();
        return now.state === 'done' ? now : undefined;
      },
      150_000,
      'the batch to finish after the restart',
    );
    expect(done.progress).toMatchObject({ total: PHONES, done: PHONES, unfinished: 0, needsHuman: 0 });
    expect(done.finishedAt).not.toBeNull();

    // Exactly once: one run per slot and phone, each ended once on the record.
    const prisma = bench.database().prisma;
    const runs = await prisma.run.findMany({ where: { batchId: id } });
    expect(runs).toHaveLength(PHONES);
    expect(new Set(runs.map((r) => r.slotId)).size).toBe(PHONES);
    expect(new Set(runs.map((r) => r.deviceEcid)).size).toBe(PHONES);
    expect(runs.every((r) => r.state === 'done' && r.policy === 'overnight')).toBe(true);
    const ended = await prisma.event.findMany({
      where: { kind: 'run.ended', runId: { in: runs.map((r) => r.id) } },
    });
    expect(ended.map((e) => e.runId).sort()).toEqual(runs.map((r) => r.id).sort());
    expect(await prisma.run.count()).toBe(PHONES); // nothing restored outside the batch
    // Every slot shows its phone done (a phone re-enumerating just after its run ended stays done).
    const floor = (await manager.call<SlotView[]>('slots')).body.filter((s) => s.benchId === 'rack');
    expect(floor.map((s) => `${s.label} ${s.state}`)).toEqual(slots.map((s) => `${s.label} done`));

    // The morning report and the certificates.
    const report = await manager.call<BatchReport>('batchReportJson', { batchId: id });
    expect(report.status).toBe(200);
    expect(report.body.summary).toMatchObject({ devices: PHONES, done: PHONES, needsHuman: 0 });
    expect(report.body.devices).toHaveLength(PHONES);
    // Each phone's serial number, as lockdownd told it when the phone was first seen in iOS.
    expect(report.body.devices.filter((d) => !/^[A-Z0-9]{10,12}$/.test(d.serialNumber ?? ''))).toEqual([]);
    const csv = await manager.call<string>('batchReportCsv', { batchId: id });
    expect(csv.status).toBe(200);
    expect(csv.body.trim().split(/\r?\n/)).toHaveLength(PHONES + 1);
    const html = await manager.call<string>('batchReportHtml', { batchId: id });
    expect(html.status).toBe(200);
    expect(html.body).toContain('Rack overnight');

    const [first] = (await manager.call<RunView[]>('runs', {}, undefined, `?batchId=${id}&limit=1`)).body;
    const certificate = await manager.call<unknown>('runCertificate', { runId: first.id });
    expect(certificate.status).toBe(200);
    const file = path.join(dir, 'certificate.json');
    writeFileSync(file, JSON.stringify(certificate.body, null, 2));
    const cli = { env: { PATH: process.env.PATH, HOME: process.env.HOME, BENCH_HOME: bench.home } };
    const valid = await runBench(['verify-certificate', file], cli);
    expect({ code: valid.code, out: valid.stdout }).toEqual({ code: 0, out: expect.any(String) });
    const tampered = JSON.parse(readFileSync(file, 'utf8')) as { certificate: { toVersion: string } };
    tampered.certificate.toVersion = '99.0';
    const forged = path.join(dir, 'tampered.json');
    writeFileSync(forged, JSON.stringify(tampered, null, 2));
    const invalid = await runBench(['verify-certificate', forged], cli);
    expect(invalid.code).toBe(1);
    expect(invalid.stdout).toMatch(/^invalid: /);

    // The manager's dashboard lists the batch, done, and opens its morning report.
    const browser = await launchBrowser();
    try {
      const page = await openDashboard(browser, bench.serverUrl());
      await logIn(page, 'max', 'manager-password');
      await page.getByTestId('summary-open').click();
      const row = page.locator(`[data-testid="batch"][data-batch-id="${id}"]`);
      await row.waitFor({ timeout: 30_000 });
      await expect(row.getByTestId('batch-state').textContent()).resolves.toBe('done');
      await expect(row.getByTestId('batch-progress').textContent()).resolves.toBe(
        `${PHONES} of ${PHONES} done`,
      );
      await screenshot(page, 'batch-overnight-summary');
      const [reportTab] = await Promise.all([
        page.waitForEvent('popup'),
        row.getByTestId('batch-report').click(),
      ]);
      await reportTab.waitForFunction('document.title.includes("Rack overnight")', undefined, {
        timeout: 30_000,
      });
      await screenshot(reportTab, 'batch-overnight-report');
    } finally {
      await browser.close();
    }
  });
});
