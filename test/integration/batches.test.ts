// Batches (issue 9) against a real simulated bench (`bench start --simulate`) on PostgreSQL and
// the real Redis `bench start` runs: validation, a batch scheduled for later that starts at its
// time and pre-fetches, pause (held runs survive a server restart) and resume, cancel, and the
// signing checks: a build the signing server stops signing raises a warning on a waiting batch,
// and a batch that starts while it is unsigned waits in attention until it is signed again.
import { writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import path from 'node:path';
import {
  type BatchNoticeBody,
  type BatchView,
  type CreateBatchRequest,
  type CreateTokenResponse,
  type ErrorBody,
  type RunView,
  type SlotView,
} from '@bench/events';
import { BenchDatabase } from '@bench/persistence';
import { isAlive, postgresTestDatabase, runBench, tempDir, waitFor, type TestDatabase } from '@bench/testing';
import { startBench, type RunningBench } from '../e2e/bench-process.helper';
import { launchBrowser, logIn, openDashboard, screenshot } from '../e2e/dashboard.helper';
import { ApiClient } from '../support/api-client';
import { WebhookReceiver } from '../support/webhook-receiver';

jest.setTimeout(240_000);

const HOST = 'batch-pc';
const SIM_BUILD = '22G100';
// Two shelves of three slots on the simulated hub; no auto-start: only batches restore here.
const HOOK_SECRET = 'a-secret-for-batch-webhooks';
const config = (hookUrl: string) => `
alerts:
  webhooks:
    - { url: "${hookUrl}", secret: "${HOOK_SECRET}", states: [], batches: [attention, warning, done] }
hosts:
  - id: ${HOST}
    benches:
      - id: shelf-a
        name: Shelf A
        slots:
          - { port: "1-1.1", label: A1 }
          - { port: "1-1.2", label: A2 }
          - { port: "1-1.3", label: A3 }
      - id: shelf-b
        name: Shelf B
        slots:
          - { port: "1-1.4", label: B1 }
          - { port: "1-1.5", label: B2 }
          - { port: "1-1.6", label: B3 }
policies:
  overnight:
    rules:
      transient-usb: { action: retry, maxAttempts: 6, backoffMs: 2000 }
      unknown: { action: retry, maxAttempts: 4, backoffMs: 5000 }
`;

describe('batches', () => {
  let bench: RunningBench;
  let manager: ApiClient;
  let technician: ApiClient;
  let database: TestDatabase;
  let records: BenchDatabase;
  let simControl: string;
  const { dir, remove } = tempDir('bench-batches-');

  const receiver = new WebhookReceiver();
  /** Batch notices the webhook received for one batch, in order. */
  const noticesOf = (batchId: string) =>
    receiver.bodies<BatchNoticeBody>().filter((body) => body.batch.id === batchId);

  beforeAll(async () => {
    const configFile = path.join(dir, 'bench.config.yaml');
    writeFileSync(configFile, config(await receiver.start()));
    database = postgresTestDatabase();
    bench = await startBench(['--simulate', '6', '--speed', '50'], {
      BENCH_CONFIG: configFile,
      BENCH_HOST_ID: HOST,
      DATABASE_URL: database.url,
    });
    records = BenchDatabase.fromUrl(database.url);
    await addUser('max', 'manager', 'manager-password');
    await addUser('tom', 'technician', 'technician-password');
    manager = await ApiClient.login(bench.serverUrl(), 'max', 'manager-password');
    technician = await ApiClient.login(bench.serverUrl(), 'tom', 'technician-password');
    const simulation = await fetch(`${bench.agentUrl()}/simulation`).then(
      (r) => r.json() as Promise<{ controlUrl: string }>,
    );
    simControl = simulation.controlUrl;
    // Every phone on its slot, identified (its model known), before any batch is made.
    await waitFor(
      async () => {
        const slots = await configuredSlots();
        return slots.length === 6 && slots.every((s) => s.ecid && s.productType) ? slots : undefined;
      },
      60_000,
      'six identified phones on the configured slots',
    );
  });

  afterAll(async () => {
    receiver.close();
    await records?.close();
    await bench?.stop();
    await database?.drop();
    remove();
  });

  /** `bench user add` against this bench's PostgreSQL schema. */
  const addUser = async (username: string, role: string, password: string) => {
    const result = await runBench(
      ['user', 'add', '--username', username, '--role', role, '--password', password],
      {
        env: { PATH: process.env.PATH, BENCH_HOME: bench.home, DATABASE_URL: database.url },
      },
    );
    if (result.code !== 0) throw new Error(`bench user add ${username}: ${result.stderr}`);
  };
  const configuredSlots = async () =>
    (await manager.call<SlotView[]>('slots')).body.filter((s) => s.benchId.startsWith('shelf-'));
  const slotLabelled = async (label: string) =>
    (await configuredSlots()).find((s) => s.label === label) as SlotView;
  const batch = async (id: string) => (await manager.call<BatchView>('batch', { batchId: id })).body;
  const runsOf = async (id: string) =>
    (await manager.call<RunView[]>('runs', {}, undefined, `?batchId=${id}&limit=100`)).body;
  const create = (body: Partial<CreateBatchRequest> & Record<string, unknown>) =>
    manager.call<BatchView & ErrorBody>('createBatch', {}, body);
  const sim = (route: string, body: unknown) =>
    fetch(`${simControl}${route}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  const waitForState = (id: string, state: string, timeoutMs: number) =>
    waitFor(
      async () => {
        const view = await batch(id);
        return view.state === state ? view : undefined;
      },
      timeoutMs,
      `batch ${id} to be ${state}`,
    );

  it('refuses bad batches with 400s naming the field, and keeps technicians out', async () => {
    const missing = await create({ slotIds: ['x'] });
    expect(missing.status).toBe(400);
    expect(missing.body.details).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^name: /),
        expect.stringMatching(/^firmware: /),
        expect.stringMatching(/^behavior: /),
      ]),
    );
    const valid = { name: 'x', firmware: 'latest', behavior: 'erase' as const };
    const unknownField = await create({ ...valid, benchIds: ['shelf-a'], colour: 'red' });
    expect(unknownField.body.details).toEqual(['colour: unknown field']);
    expect((await create({ ...valid, firmware: 'newest', benchIds: ['shelf-a'] })).body.message).toMatch(
      /firmware: must be "latest" or a build number/,
    );
    expect((await create(valid)).body).toMatchObject({
      statusCode: 400,
      message: 'slotIds or benchIds: choose at least one slot or bench',
    });
    expect((await create({ ...valid, benchIds: ['shelf-z'] })).body.message).toBe(
      'benchIds: no bench shelf-z',
    );
    expect((await create({ ...valid, slotIds: ['no-such-slot'] })).body.message).toBe(
      'slotIds: no slot no-such-slot',
    );
    expect((await create({ ...valid, benchIds: ['shelf-a'], policy: 'weekend' })).body.message).toBe(
      'policy: unknown policy weekend; expected one of: default, overnight',
    );
    expect(
      (await create({ ...valid, benchIds: ['shelf-a'], startAt: '2020-01-01T00:00:00Z' })).body.message,
    ).toMatch(/^startAt: 2020-01-01T00:00:00.000Z is in the past/);
    expect((await create({ ...valid, benchIds: ['shelf-a'], startAt: 'tonight' })).body.details).toEqual([
      'startAt: must be an ISO 8601 time such as 2026-11-25T22:00:00Z',
    ]);
    expect((await technician.call('createBatch', {}, { ...valid, benchIds: ['shelf-a'] })).status).toBe(403);
    expect((await manager.call<ErrorBody>('batch', { batchId: 'no-such-batch' })).body).toEqual({
      statusCode: 404,
      error: 'Not Found',
      message: 'no batch no-such-batch',
    });
    expect((await manager.call<BatchView[]>('batches')).body).toEqual([]);
  });

  it('starts at its time, pre-fetches, pauses (held runs survive a server restart) and resumes', async () => {
    // A3's slot is paused: its run waits on the agent's queue, not started, when the batch is paused.
    const a3 = await slotLabelled('A3');
    expect((await technician.call('pauseSlot', { slotId: a3.id }, {})).status).toBe(202);
    const startAt = new Date(Date.now() + 8_000);
    const created = await create({
      name: 'Shelf A overnight',
      firmware: 'latest',
      behavior: 'erase',
      benchIds: ['shelf-a'],
      startAt: startAt.toISOString(),
      policy: 'overnight',
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      state: 'scheduled',
      benchIds: ['shelf-a'],
      slotIds: [],
      policy: 'overnight',
      createdBy: 'max',
      scheduledAt: startAt.toISOString(),
      startedAt: null,
      progress: { total: 0 },
    });
    const id = created.body.id;
    // Not before its time.
    while (Date.now() < startAt.getTime() - 1_500) {
      const view = await batch(id);
      expect({ state: view.state, runs: view.progress.total }).toEqual({ state: 'scheduled', runs: 0 });
      await new Promise((r) => setTimeout(r, 500));
    }
    const running = await waitForState(id, 'running', 30_000);
    expect(Date.parse(running.startedAt as string)).toBeGreaterThanOrEqual(startAt.getTime());
    const models = new Set(
      (await configuredSlots()).filter((s) => s.benchId === 'shelf-a').map((s) => s.productType),
    );
    expect(running.prefetch.map((p) => p.productType).sort()).toEqual([...models].sort());
    for (const outcome of running.prefetch)
      expect(outcome).toMatchObject({
        hostId: HOST,
        firmware: 'latest',
        build: SIM_BUILD,
        fetched: true,
        signing: 'signed',
      });
    const runs = await runsOf(id);
    expect(runs).toHaveLength(3);
    for (const run of runs)
      expect(run).toMatchObject({ batchId: id, firmwareSelector: SIM_BUILD, operator: 'max' });
    const policies = await records.prisma.run.findMany({ where: { batchId: id }, select: { policy: true } });
    expect(policies.map((p) => p.policy)).toEqual(['overnight', 'overnight', 'overnight']);

    // Pause: A3's run (waiting on its paused slot) is held; the others finish.
    const a3Run = runs.find((r) => r.slotId === a3.id) as RunView;
    await waitFor(
      async () => {
        const now = await runsOf(id);
        const others = now.filter((r) => r.id !== a3Run.id);
        const a3State = now.find((r) => r.id === a3Run.id)?.state;
        return others.every((r) => r.state === 'running') && a3State === 'queued' ? true : undefined;
      },
      30_000,
      "A1's and A2's runs restoring while A3's waits on its paused slot",
    );
    const paused = await manager.call<BatchView>('pauseBatch', { batchId: id }, {});
    expect(paused.status).toBe(200);
    expect(paused.body.state).toBe('paused');
    await waitFor(
      async () =>
        (await technician.call<RunView>('run', { runId: a3Run.id })).body.state === 'held' ? true : undefined,
      10_000,
      "A3's run held",
    );
    expect((await technician.call('resumeSlot', { slotId: a3.id }, {})).status).toBe(202);
    await waitFor(
      async () => {
        const view = await batch(id);
        return view.progress.byState.done === 2 ? view : undefined;
      },
      120_000,
      'the two started runs to finish while paused',
    );

    // A server killed while the batch is paused must not start the held run when it comes back.
    const killed = bench.state().server?.pid as number;
    process.kill(killed, 'SIGKILL');
    await waitFor(() => !isAlive(killed) || undefined, 10_000, 'the server to die');
    await waitFor(
      () => (bench.state().server && bench.state().server?.pid !== killed) || undefined,
      60_000,
      'the supervisor to restart the server',
    );
    manager = await ApiClient.login(bench.serverUrl(), 'max', 'manager-password');
    technician = await ApiClient.login(bench.serverUrl(), 'tom', 'technician-password');
    await new Promise((r) => setTimeout(r, 5_000));
    const stillHeld = (await technician.call<RunView>('run', { runId: a3Run.id })).body;
    expect({ state: stillHeld.state, attempts: stillHeld.attempts }).toEqual({ state: 'held', attempts: [] });
    expect((await batch(id)).state).toBe('paused');

    const resumed = await manager.call<BatchView>('resumeBatch', { batchId: id }, {});
    expect(resumed.body.state).toBe('running');
    const done = await waitForState(id, 'done', 120_000);
    expect(done.progress).toMatchObject({ total: 3, done: 3, unfinished: 0, needsHuman: 0, percent: 100 });
    expect(done.finishedAt).not.toBeNull();
    const ended = await records.prisma.event.findMany({
      where: { kind: 'run.ended', runId: { in: runs.map((r) => r.id) } },
    });
    expect(ended).toHaveLength(3);
  });

  it('cancels: a waiting batch ends at once; a running one ends its queued runs and stops the running ones', async () => {
    const later = await create({
      name: 'never',
      firmware: SIM_BUILD,
      behavior: 'erase',
      benchIds: ['shelf-b'],
      startAt: new Date(Date.now() + 3600_000).toISOString(),
    });
    const cancelledEarly = await manager.call<BatchView>(
      'cancelBatch',
      { batchId: later.body.id },
      { reason: 'wrong shelf' },
    );
    expect(cancelledEarly.body).toMatchObject({
      state: 'cancelled',
      message: 'cancelled by max: wrong shelf',
    });
    expect(cancelledEarly.body.finishedAt).not.toBeNull();
    expect((await manager.call<ErrorBody>('resumeBatch', { batchId: later.body.id }, {})).status).toBe(409);

    const b3 = await slotLabelled('B3');
    expect((await technician.call('pauseSlot', { slotId: b3.id }, {})).status).toBe(202);
    const now = await create({
      name: 'Shelf B now',
      firmware: 'latest',
      behavior: 'erase',
      benchIds: ['shelf-b'],
    });
    const id = now.body.id;
    await waitForState(id, 'running', 30_000);
    await waitFor(
      async () => {
        const runs = await runsOf(id);
        return runs.filter((r) => r.state === 'running').length === 2 ? runs : undefined;
      },
      30_000,
      "B1's and B2's runs restoring",
    );
    const cancelled = await manager.call<BatchView>('cancelBatch', { batchId: id }, {});
    expect(cancelled.body.state).toBe('cancelled');
    const finished = await waitFor(
      async () => {
        const view = await batch(id);
        return view.finishedAt ? view : undefined;
      },
      60_000,
      'every run of the cancelled batch to end',
    );
    expect(finished.progress).toMatchObject({ total: 3, unfinished: 0 });
    const b3Run = (await runsOf(id)).find((r) => r.slotId === b3.id) as RunView;
    expect(b3Run).toMatchObject({ state: 'cancelled', attempts: [] });
    expect((await technician.call('resumeSlot', { slotId: b3.id }, {})).status).toBe(202);
  });

  it('bench batch: makes, lists, shows, pauses, resumes and cancels a batch from a terminal', async () => {
    const cli = (args: string[], env: NodeJS.ProcessEnv = {}, input?: string) =>
      runBench(['batch', ...args], {
        env: { PATH: process.env.PATH, BENCH_HOME: bench.home, DATABASE_URL: database.url, ...env },
        input,
      });
    // As a manager with a password on standard input; the server found from var/run/bench.json.
    const asMax = (args: string[]) =>
      cli([...args, '--user', 'max', '--password-stdin'], {}, 'manager-password\n');
    const inAnHour = new Date(Date.now() + 3600_000).toISOString();

    const made = await asMax([
      'create',
      '--name',
      'CLI shelf A',
      '--bench',
      'shelf-a',
      '--firmware',
      SIM_BUILD,
      '--at',
      inAnHour,
      '--policy',
      'overnight',
      '--json',
    ]);
    expect({ code: made.code, stderr: made.stderr }).toEqual({ code: 0, stderr: '' });
    const created = JSON.parse(made.stdout) as BatchView;
    expect(created).toMatchObject({
      name: 'CLI shelf A',
      firmwareSelector: SIM_BUILD,
      behavior: 'erase',
      benchIds: ['shelf-a'],
      policy: 'overnight',
      scheduledAt: inAnHour,
      createdBy: 'max',
    });
    expect((await batch(created.id)).name).toBe('CLI shelf A');

    const listed = await asMax(['list']);
    expect(listed.code).toBe(0);
    expect(listed.stdout.split('\n')[0]).toMatch(/^ID +NAME +STATE +FIRMWARE +START +PROGRESS$/);
    expect(listed.stdout).toMatch(
      new RegExp(`^${created.id} +CLI shelf A +${created.state} +${SIM_BUILD} \\(erase\\)`, 'm'),
    );

    // With an API token instead of a login (what a cron job would use).
    await addUser('ada', 'admin', 'admin-password');
    const admin = await ApiClient.login(bench.serverUrl(), 'ada', 'admin-password');
    const token = await admin.call<CreateTokenResponse>('createToken', {}, { name: 'cron' });
    expect(token.status).toBe(201);
    const shown = await cli(['show', created.id], { BENCH_API_TOKEN: token.body.token });
    expect(shown.code).toBe(0);
    expect(shown.stdout).toContain(`CLI shelf A (${created.id})`);
    expect(shown.stdout).toContain('  policy:    overnight');
    expect(shown.stdout).toContain('  can now:   pause, cancel');

    const paused = await asMax(['pause', created.id, '--json']);
    expect(JSON.parse(paused.stdout)).toMatchObject({ state: 'paused', actions: ['resume', 'cancel'] });
    const resumed = await asMax(['resume', created.id, '--json']);
    expect(JSON.parse(resumed.stdout)).toMatchObject({ state: 'scheduled' });
    const cancelled = await asMax(['cancel', created.id, '--reason', 'made from the CLI test']);
    expect(cancelled.code).toBe(0);
    expect(cancelled.stdout).toContain('state:     cancelled — cancelled by max: made from the CLI test');

    // What goes wrong is said on one line, with 2 for the command line and 1 for the server.
    const badFirmware = await asMax(['create', '--name', 'x', '--bench', 'shelf-a', '--firmware', 'iOS 18']);
    expect({ code: badFirmware.code, stderr: badFirmware.stderr }).toEqual({
      code: 2,
      stderr: `bench batch: --firmware 'iOS 18': expected "latest" or a build number such as 22G100\n`,
    });
    const unknownBench = await asMax(['create', '--name', 'x', '--bench', 'no-such-bench']);
    expect(unknownBench.code).toBe(1);
    expect(unknownBench.stderr).toMatch(/^bench batch: the server answered 400: .*no-such-bench/);
    const unknown = await asMax(['show', 'no-such-batch']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/^bench batch: the server answered 404: /);
    const asTom = await cli(['list', '--user', 'tom', '--password-stdin'], {}, 'technician-password\n');
    expect(asTom.code).toBe(1);
    expect(asTom.stderr).toMatch(/^bench batch: the server answered 403: /);
    const wrongPassword = await cli(['list', '--user', 'max', '--password-stdin'], {}, 'not-it\n');
    expect(wrongPassword.code).toBe(1);
    expect(wrongPassword.stderr).toMatch(/^bench batch: the server answered 401: /);
    const anonymous = await cli(['list']);
    expect(anonymous.code).toBe(2);
    expect(anonymous.stderr).toMatch(/sign in with --user NAME .* or set BENCH_API_TOKEN/);
    // A port nothing listens on any more.
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const { port } = closed.address() as AddressInfo;
    await new Promise((resolve) => closed.close(resolve));
    const nobody = await cli(['list', '--server', `http://127.0.0.1:${port}`], {
      BENCH_API_TOKEN: token.body.token,
    });
    expect(nobody.code).toBe(1);
    expect(nobody.stderr).toBe(
      `bench batch: no answer from the server at http://127.0.0.1:${port} (connect ECONNREFUSED 127.0.0.1:${port}); is bench running?\n`,
    );
  });

  it('warns when a waiting batch’s build stops being signed, and waits in attention when it starts unsigned', async () => {
    const waiting = await create({
      name: 'tonight',
      firmware: SIM_BUILD,
      behavior: 'erase',
      benchIds: ['shelf-b'],
      startAt: new Date(Date.now() + 3600_000).toISOString(),
    });
    expect((await sim('/tss/unsigned', { build: SIM_BUILD })).status).toBe(200);
    const warned = await waitFor(
      async () => {
        const view = await batch(waiting.body.id);
        return view.warnings.length > 0 ? view : undefined;
      },
      60_000,
      'a signing warning on the waiting batch',
    );
    expect(warned.state).toBe('scheduled');
    for (const warning of warned.warnings)
      expect(warning).toMatchObject({
        kind: 'build-unsigned',
        build: SIM_BUILD,
        hostId: HOST,
        message: expect.stringMatching(/is no longer signed: the batch will wait in attention/),
      });
    const recorded = await waitFor(
      async () => {
        const rows = await records.prisma.event.findMany({ where: { kind: 'batch.warning' } });
        const mine = rows.filter((row) => row.payload?.includes(waiting.body.id));
        return mine.length > 0 ? mine : undefined;
      },
      10_000,
      'the warning on the record',
    );
    expect(JSON.parse(recorded[0].payload as string)).toMatchObject({
      batchId: waiting.body.id,
      build: SIM_BUILD,
    });

    // Chosen slot by slot this time (the same three phones as shelf B).
    const shelfB = (await configuredSlots()).filter((s) => s.benchId === 'shelf-b').map((s) => s.id);
    const now = await create({
      name: 'unsigned now',
      firmware: 'latest',
      behavior: 'erase',
      slotIds: shelfB,
    });
    expect(now.body).toMatchObject({ slotIds: shelfB, benchIds: [] });
    const attention = await waitForState(now.body.id, 'attention', 30_000);
    expect(attention.message).toMatch(/22G100 on batch-pc: the build is no longer signed \(TSS status 94\)/);
    expect(attention.prefetch.every((p) => p.signing === 'not-signed' && p.fetched)).toBe(true);
    expect(attention.progress.total).toBe(0);

    // The manager's dashboard says so: the batch waiting in attention and why, and the warning.
    const browser = await launchBrowser();
    try {
      const page = await openDashboard(browser, bench.serverUrl());
      await logIn(page, 'max', 'manager-password');
      await page.getByTestId('summary-open').click();
      const row = (id: string) => page.locator(`[data-testid="batch"][data-batch-id="${id}"]`);
      await row(now.body.id).waitFor({ timeout: 30_000 });
      await expect(row(now.body.id).getByTestId('batch-state').textContent()).resolves.toBe('attention');
      await expect(row(now.body.id).textContent()).resolves.toMatch(/the build is no longer signed/);
      await expect(row(waiting.body.id).getByTestId('batch-warning').first().textContent()).resolves.toMatch(
        /build 22G100 \(iOS [\d.]+\) is no longer signed/,
      );
      // The one waiting for a person comes first.
      await expect(page.getByTestId('batch').first().getAttribute('data-batch-id')).resolves.toBe(
        now.body.id,
      );
    } finally {
      await browser.close();
    }

    expect((await sim('/tss/signed', { build: SIM_BUILD })).status).toBe(200);
    expect((await manager.call<BatchView>('resumeBatch', { batchId: now.body.id }, {})).body.state).toBe(
      'scheduled',
    );
    const done = await waitForState(now.body.id, 'done', 150_000);
    expect(done.progress).toMatchObject({ total: 3, done: 3 });
    expect(done.prefetch.every((p) => p.signing === 'signed')).toBe(true);
    await manager.call('cancelBatch', { batchId: waiting.body.id }, {});

    // The webhook that asked for batch notices heard each of them once, signed.
    await waitFor(
      () => (noticesOf(now.body.id).some((n) => n.notice === 'done') ? true : undefined),
      10_000,
      'the done notice of the batch that waited in attention',
    );
    expect(noticesOf(waiting.body.id).map((n) => n.notice)).toEqual(expect.arrayContaining(['warning']));
    expect(noticesOf(waiting.body.id)[0]).toMatchObject({
      type: 'batch',
      message: expect.stringMatching(/^tonight: .*build 22G100 \(iOS [\d.]+\) is no longer signed/),
      batch: { id: waiting.body.id, name: 'tonight', state: 'scheduled', firmware: SIM_BUILD },
    });
    expect(noticesOf(now.body.id)).toEqual([
      expect.objectContaining({
        notice: 'attention',
        message: expect.stringMatching(/^unsigned now: .*the build is no longer signed \(TSS status 94\)/),
        batch: expect.objectContaining({
          state: 'attention',
          reportPath: `/api/batches/${now.body.id}/report.html`,
        }),
      }),
      expect.objectContaining({
        notice: 'done',
        message: 'unsigned now: 3 of 3 done',
        batch: expect.objectContaining({
          state: 'done',
          progress: expect.objectContaining({ total: 3, done: 3 }),
        }),
      }),
    ]);
    for (const hook of receiver.hooks)
      expect(hook.headers['x-bench-signature']).toBe(WebhookReceiver.expectedSignature(hook, HOOK_SECRET));
    // The first test's batch ended done once, so it was told once; no slot alerts (states: []).
    const doneNotices = receiver.bodies<BatchNoticeBody>().filter((n) => n.notice === 'done');
    expect(doneNotices.map((n) => n.batch.name).sort()).toEqual(['Shelf A overnight', 'unsigned now']);
    expect(receiver.bodies<{ type: string }>().every((body) => body.type === 'batch')).toBe(true);
  });

  it('a manager makes, pauses, resumes and cancels a batch from the dashboard', async () => {
    const browser = await launchBrowser();
    try {
      const page = await openDashboard(browser, bench.serverUrl());
      await logIn(page, 'max', 'manager-password');
      await page.getByTestId('summary-open').click();
      await page.getByTestId('batch-new').click();
      const form = page.getByTestId('batch-form');
      const formError = () => form.getByTestId('batch-form-error').textContent();
      // What the form can tell alone, then what only the server can.
      await form.getByTestId('batch-create').click();
      await expect(formError()).resolves.toBe('Give the batch a name.');
      await form.locator('input[name="name"]').fill('From the dashboard');
      await form.getByTestId('batch-create').click();
      await expect(formError()).resolves.toBe('Choose at least one bench.');
      await form.locator('input[name="bench"][value="shelf-b"]').check();
      await form.locator('input[name="firmware"]').fill('newest');
      await form.getByTestId('batch-create').click();
      await page.getByText(/firmware: must be "latest" or a build number/).waitFor({ timeout: 10_000 });

      await form.locator('input[name="firmware"]').fill('latest');
      const tomorrow = new Date(Date.now() + 24 * 3600_000);
      const pad = (n: number) => String(n).padStart(2, '0');
      const local = `${tomorrow.getFullYear()}-${pad(tomorrow.getMonth() + 1)}-${pad(tomorrow.getDate())}T22:00`;
      await form.locator('input[name="startAt"]').fill(local);
      await form.locator('select[name="policy"]').selectOption('overnight');
      await screenshot(page, 'batches-new-batch-form');
      await form.getByTestId('batch-create').click();
      await form.waitFor({ state: 'detached', timeout: 10_000 });

      const made = (await manager.call<BatchView[]>('batches')).body.find(
        (b) => b.name === 'From the dashboard',
      ) as BatchView;
      expect(made).toMatchObject({
        state: 'scheduled',
        firmwareSelector: 'latest',
        behavior: 'erase',
        benchIds: ['shelf-b'],
        policy: 'overnight',
        createdBy: 'max',
        scheduledAt: new Date(local).toISOString(),
        actions: ['pause', 'cancel'],
      });
      const row = page.locator(`[data-testid="batch"][data-batch-id="${made.id}"]`);
      const state = () => row.getByTestId('batch-state').textContent();
      await expect(state()).resolves.toBe('scheduled');
      await expect(row.getByTestId('batch-progress').textContent()).resolves.toMatch(/^starts /);

      await row.getByTestId('batch-pause').click();
      await waitFor(async () => ((await state()) === 'paused' ? true : undefined), 10_000, 'paused shown');
      expect((await batch(made.id)).state).toBe('paused');
      await row.getByTestId('batch-resume').click();
      await waitFor(async () => ((await state()) === 'scheduled' ? true : undefined), 10_000, 'resumed');
      expect((await batch(made.id)).state).toBe('scheduled');
      // Cancel asks first: refused, nothing happens; accepted, the batch ends and offers nothing.
      page.once('dialog', (dialog) => void dialog.dismiss());
      await row.getByTestId('batch-cancel').click();
      await new Promise((r) => setTimeout(r, 1_000));
      expect((await batch(made.id)).state).toBe('scheduled');
      page.once('dialog', (dialog) => void dialog.accept());
      await row.getByTestId('batch-cancel').click();
      await waitFor(async () => ((await state()) === 'cancelled' ? true : undefined), 10_000, 'cancelled');
      expect(await batch(made.id)).toMatchObject({ state: 'cancelled', actions: [] });
      await screenshot(page, 'batches-cancelled-from-dashboard');
      const buttons = row.locator(
        '[data-testid="batch-pause"], [data-testid="batch-resume"], [data-testid="batch-cancel"]',
      );
      await expect(buttons.count()).resolves.toBe(0);
    } finally {
      await browser.close();
    }
  });
});
