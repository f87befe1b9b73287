// Reports and restore certificates (issue 9): a night of records (done first try, done after a
// transient-usb retry, bricked, signing refused, a quarantined port, a stuck phone) becomes the
// batch report on SQLite and PostgreSQL; then, on a running bench whose recorder wrote the same
// night from the agents' event stream, the API serves it as JSON, CSV and printable HTML (printed
// to PDF in Chromium), signs a certificate for a done run, and `bench verify-certificate`
// accepts it and refuses every tampered copy with the reason.
import { createHash, generateKeyPairSync } from 'node:crypto';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';
import type { Redis } from 'ioredis';
import { parseEcid } from '@bench/bench-domain';
import {
  apiPath,
  type BatchReport,
  type BenchRecordEvent,
  type ErrorBody,
  type RestoreCertificate,
  type RunView,
  type SlotView,
} from '@bench/events';
import { createRedis, EventPublisher } from '@bench/jobs';
import {
  BenchDatabase,
  DeviceRepository,
  ReportRepository,
  RunRepository,
  TopologyRepository,
} from '@bench/persistence';
import { buildBatchReport, certificateDigest, keyFingerprint } from '@bench/reports';
import {
  postgresTestDatabase,
  runBench,
  sqliteTestDatabase,
  tempDir,
  waitFor,
  type TestDatabase,
} from '@bench/testing';
import { startBench, type RunningBench } from '../e2e/bench-process.helper';
import { CHROMIUM_PATH } from '../e2e/dashboard.helper';
import { addUser, ApiClient } from '../support/api-client';

jest.setTimeout(180_000);

const HOST = 'night-pc';
const BENCH_ID = 'night-shelf';
const T0 = Date.now() - 8 * 3600_000;
const at = (minutes: number) => T0 + minutes * 60_000;
const IPSW = {
  fileName: 'iPhone14,2_18.6_22G86_Restore.ipsw',
  sizeBytes: 9_876_543_210,
  sha256: 'f00d'.repeat(16),
};
const HOSTILE = '<script>alert("x")</script>';

const PHONES = {
  first: { portPath: '1-2.1', label: 'N1', ecid: parseEcid(0xa1), productType: 'iPhone14,2', from: '17.5' },
  retried: {
    portPath: '1-2.2',
    label: 'N2',
    ecid: parseEcid(0xa2),
    productType: 'iPhone14,2',
    from: '16.7.10',
  },
  bricked: { portPath: '1-2.3', label: 'N3', ecid: parseEcid(0xa3), productType: 'iPhone13,2', from: '17.0' },
  unsigned: {
    portPath: '1-2.4',
    label: 'N4',
    ecid: parseEcid(0xa4),
    productType: 'iPhone15,2',
    from: '18.0',
  },
  quarantined: {
    portPath: '1-2.5',
    label: 'N5',
    ecid: parseEcid(0xa5),
    productType: 'iPhone14,2',
    from: '17.2',
  },
  stuck: {
    portPath: '1-2.6',
    label: 'N6 <b>&',
    ecid: parseEcid(0xa6),
    productType: 'iPhone10,3',
    from: '16.0',
  },
};
type PhoneKey = keyof typeof PHONES;
type Phone = (typeof PHONES)[PhoneKey];
type RunIds = Record<PhoneKey, string>;

function topologyEvent(): BenchRecordEvent {
  return {
    kind: 'host.topology',
    hostId: HOST,
    at: at(-10),
    benches: [
      {
        id: BENCH_ID,
        name: 'Shelf N',
        slots: Object.values(PHONES).map((p) => ({ portPath: p.portPath, label: p.label })),
      },
    ],
  };
}

/** What the agent of night-pc would have published, phone by phone. */
function nightEvents(runs: RunIds): BenchRecordEvent[] {
  const ref = (p: Phone) => ({ hostId: HOST, portPath: p.portPath });
  const seen = (p: Phone, minutes: number, productVersion: string): BenchRecordEvent => ({
    kind: 'device.seen',
    ...ref(p),
    at: at(minutes),
    mode: 'normal',
    device: { ecid: p.ecid, productType: p.productType, productVersion },
  });
  const started = (key: PhoneKey, number: number, minutes: number): BenchRecordEvent => ({
    kind: 'attempt.started',
    ...ref(PHONES[key]),
    at: at(minutes),
    runId: runs[key],
    number,
    ecid: PHONES[key].ecid,
    startMode: 'normal',
  });
  const firmware = (key: PhoneKey, attempt: number, minutes: number): BenchRecordEvent => ({
    kind: 'restore.event',
    ...ref(PHONES[key]),
    runId: runs[key],
    attempt,
    event: { type: 'firmware', version: '18.6', build: '22G86', at: at(minutes) },
  });
  const failed = (
    key: PhoneKey,
    number: number,
    minutes: number,
    failureClass: 'transient-usb' | 'device-hardware' | 'signing-refused' | 'stuck',
    message: string,
  ): BenchRecordEvent => ({
    kind: 'attempt.ended',
    ...ref(PHONES[key]),
    at: at(minutes),
    runId: runs[key],
    number,
    outcome: 'failed',
    failureClass,
    message,
    lastStage: 'send-filesystem',
  });
  const done = (key: PhoneKey, number: number, minutes: number): BenchRecordEvent => ({
    kind: 'attempt.ended',
    ...ref(PHONES[key]),
    at: at(minutes),
    runId: runs[key],
    number,
    outcome: 'done',
    productVersion: '18.6',
    buildVersion: '22G86',
    ipsw: IPSW,
  });
  const ended = (
    key: PhoneKey,
    minutes: number,
    state: 'done' | 'failed',
    slotState: 'done' | 'bricked' | 'attention' | 'quarantined' | 'stuck',
    failureClass?: 'transient-usb' | 'device-hardware' | 'signing-refused' | 'stuck',
    message?: string,
  ): BenchRecordEvent[] => [
    {
      kind: 'run.ended',
      ...ref(PHONES[key]),
      at: at(minutes),
      runId: runs[key],
      state,
      failureClass,
      message,
    },
    {
      kind: 'slot.state',
      ...ref(PHONES[key]),
      at: at(minutes),
      state: slotState,
      ecid: PHONES[key].ecid,
      runId: runs[key],
      detail: message,
    },
  ];
  return [
    ...Object.values(PHONES).map((p) => seen(p, 0, p.from)),
    // Done first try; seen again afterwards on its new version (not its "from").
    started('first', 1, 1),
    firmware('first', 1, 2),
    done('first', 1, 11),
    ...ended('first', 11, 'done', 'done'),
    seen(PHONES.first, 12, '18.6'),
    // Done after a transient USB failure.
    started('retried', 1, 1),
    firmware('retried', 1, 2),
    failed('retried', 1, 3, 'transient-usb', 'the phone detached during send-filesystem, USB error -4'),
    started('retried', 2, 4),
    firmware('retried', 2, 5),
    done('retried', 2, 14),
    ...ended('retried', 14, 'done', 'done'),
    // Bricked.
    started('bricked', 1, 1),
    firmware('bricked', 1, 2),
    failed('bricked', 1, 8, 'device-hardware', 'restored StatusMsg 53'),
    ...ended(
      'bricked',
      8,
      'failed',
      'bricked',
      'device-hardware',
      'restored StatusMsg 53 — the phone needs repair',
    ),
    // Signing refused.
    started('unsigned', 1, 1),
    firmware('unsigned', 1, 2),
    failed('unsigned', 1, 2, 'signing-refused', 'TSS refused 22G86 for this device (status 94)'),
    ...ended('unsigned', 2, 'failed', 'attention', 'signing-refused', 'TSS refused 22G86, "not signed"'),
    // A port that kept failing: quarantined.
    started('quarantined', 1, 1),
    failed('quarantined', 1, 2, 'transient-usb', 'USB I/O error'),
    {
      kind: 'port.quarantined',
      ...ref(PHONES.quarantined),
      at: at(2),
      reason: 'transient USB failures with 3 different phones',
      phones: [PHONES.quarantined.ecid, '00000000000000B1', '00000000000000B2'],
    },
    ...ended(
      'quarantined',
      2,
      'failed',
      'quarantined',
      'transient-usb',
      'port quarantined: transient USB failures with 3 different phones; move the phone to another slot',
    ),
    // Stuck twice, with a message no page may run.
    started('stuck', 1, 1),
    failed('stuck', 1, 5, 'stuck', `no progress in boot-ramdisk ${HOSTILE}`),
    started('stuck', 2, 6),
    failed('stuck', 2, 9, 'stuck', `no progress in boot-ramdisk ${HOSTILE}`),
    ...ended(
      'stuck',
      9,
      'failed',
      'stuck',
      'stuck',
      `no progress in boot-ramdisk ${HOSTILE}. Put the phone in DFU mode`,
    ),
  ];
}

/** The batch row and one queued run per phone (what the batch scheduler would have made). */
async function createBatch(db: BenchDatabase): Promise<{ batchId: string; runs: RunIds }> {
  const batch = await db.prisma.batch.create({
    data: {
      name: 'Night of shelf N, "all of it"',
      firmwareSelector: 'latest',
      behavior: 'erase',
      state: 'done',
      createdBy: 'max',
      scheduledAt: new Date(at(-5)),
      startedAt: new Date(at(-1)),
      finishedAt: new Date(at(20)),
      benches: { create: [{ benchId: BENCH_ID }] },
    },
  });
  const repository = new RunRepository(db);
  const runs = {} as RunIds;
  for (const [key, phone] of Object.entries(PHONES) as [PhoneKey, Phone][]) {
    const run = await repository.create({
      hostId: HOST,
      portPath: phone.portPath,
      deviceEcid: phone.ecid,
      firmwareSelector: 'latest',
      behavior: 'erase',
      policy: 'default',
      operator: 'night-batch',
      batchId: batch.id,
    });
    runs[key] = run.id;
  }
  return { batchId: batch.id, runs };
}

let directEntries = 0;

/** Writes events the way the server's recorder does (for a database no server runs on). */
async function recordDirectly(db: BenchDatabase, events: BenchRecordEvent[]): Promise<void> {
  const runs = new RunRepository(db);
  const devices = new DeviceRepository(db);
  const topology = new TopologyRepository(db);
  for (const event of events) {
    const when = new Date(event.kind === 'restore.event' ? event.event.at : event.at);
    switch (event.kind) {
      case 'host.topology':
        await topology.syncHost(event.hostId, event.hostId, event.benches);
        break;
      case 'device.seen':
        await devices.recordSeen(
          { ecid: parseEcid(event.device.ecid), productType: event.device.productType },
          when,
        );
        break;
      case 'attempt.started':
        await runs.attemptStarted(event.runId, event.number, when, event.ecid, event.startMode);
        break;
      case 'attempt.ended':
        await runs.attemptEnded(event.runId, event.number, when, event);
        break;
      case 'run.ended':
        await runs.runEnded(event.runId, when, event);
        break;
      case 'slot.state':
        await runs.slotState(event.hostId, event.portPath, event);
        break;
      case 'port.quarantined':
        await runs.quarantine(event.hostId, event.portPath, event.reason, when);
        break;
    }
    const slot = 'portPath' in event ? await runs.slotFor(event.hostId, event.portPath) : undefined;
    await runs.appendEvent({
      streamId: `direct-${++directEntries}`,
      at: when,
      kind: event.kind === 'restore.event' ? `restore.${event.event.type}` : event.kind,
      hostId: event.hostId,
      slotId: slot?.id,
      runId: 'runId' in event ? event.runId : undefined,
      deviceEcid:
        event.kind === 'device.seen'
          ? event.device.ecid
          : 'ecid' in event
            ? (event.ecid as string)
            : undefined,
      payload: event,
    });
  }
}

function expectTheNight(report: BatchReport, runs: RunIds): void {
  const row = (key: PhoneKey) => report.devices.find((r) => r.runId === runs[key])!;
  expect(report.devices.map((r) => r.slot)).toEqual(['N1', 'N2', 'N3', 'N4', 'N5', 'N6 <b>&']);
  expect(row('first')).toMatchObject({
    ecid: PHONES.first.ecid,
    model: 'iPhone14,2',
    fromVersion: '17.5',
    toVersion: '18.6',
    build: '22G86',
    ipswSha256: IPSW.sha256,
    ipswFile: IPSW.fileName,
    hostId: HOST,
    portPath: '1-2.1',
    operator: 'night-batch',
    durationSeconds: 600,
    outcome: 'done',
  });
  expect(row('retried')).toMatchObject({ fromVersion: '16.7.10', outcome: 'done', durationSeconds: 780 });
  expect(row('retried').attempts.map((a) => [a.number, a.outcome, a.failureClass])).toEqual([
    [1, 'failed', 'transient-usb'],
    [2, 'done', null],
  ]);
  expect(row('bricked')).toMatchObject({ outcome: 'bricked', failureClass: 'device-hardware' });
  expect(row('unsigned')).toMatchObject({ outcome: 'attention', failureClass: 'signing-refused' });
  expect(row('quarantined')).toMatchObject({ outcome: 'quarantined', failureClass: 'transient-usb' });
  expect(row('stuck')).toMatchObject({ outcome: 'stuck', model: 'iPhone10,3' });
  expect(report.summary).toMatchObject({
    devices: 6,
    done: 2,
    doneFirstTry: 1,
    retried: 1,
    needsHuman: 4,
    bricked: 1,
    attention: 1,
    stuck: 1,
    quarantinedRuns: 1,
    quarantinedSlots: 1,
    totalAttempts: 8,
    failuresByClass: { 'transient-usb': 2, 'device-hardware': 1, 'signing-refused': 1, stuck: 2 },
  });
  const needs = Object.fromEntries(report.needsHuman.map((entry) => [entry.runId, entry]));
  expect(needs[runs.bricked].action).toMatch(/repair/);
  expect(needs[runs.unsigned].action).toMatch(/no longer signs 22G86/);
  expect(needs[runs.stuck].action).toMatch(/Volume Up/);
  expect(needs[runs.quarantined].action).toMatch(/swap the cable of N5/);
  expect(report.quarantinedSlots).toEqual([
    expect.objectContaining({
      hostId: HOST,
      portPath: '1-2.5',
      slot: 'N5',
      reason: 'transient USB failures with 3 different phones',
      stillQuarantined: true,
    }),
  ]);
}

describe.each([
  ['sqlite', sqliteTestDatabase],
  ['postgresql', postgresTestDatabase],
])('batch reports from the record on %s', (_kind, makeDatabase) => {
  let testDb: TestDatabase;
  let db: BenchDatabase;
  let batchId: string;
  let runs: RunIds;

  beforeAll(async () => {
    testDb = makeDatabase();
    db = BenchDatabase.fromUrl(testDb.url);
    await db.migrate();
    await recordDirectly(db, [topologyEvent()]);
    ({ batchId, runs } = await createBatch(db));
    await recordDirectly(db, nightEvents(runs));
  });

  afterAll(async () => {
    await db.close();
    await testDb.drop();
  });

  it('reads a batch and builds its report', async () => {
    const records = await new ReportRepository(db).batchRecords(batchId);
    expect(records).toBeDefined();
    expectTheNight(buildBatchReport(records!, { shop: 'Fix-It Ltd', now: new Date() }), runs);
  });

  it('reads one run with what its certificate needs', async () => {
    const records = await new ReportRepository(db).runRecords(runs.first);
    expect(records?.run.id).toBe(runs.first);
    expect(records?.devices.map((d) => d.ecid)).toEqual([PHONES.first.ecid]);
    expect(records?.events.some((e) => e.kind === 'attempt.ended')).toBe(true);
  });

  it('answers undefined for a batch or run it does not have', async () => {
    const repository = new ReportRepository(db);
    expect(await repository.batchRecords('no-such-batch')).toBeUndefined();
    expect(await repository.runRecords('no-such-run')).toBeUndefined();
  });
});

describe('reports over the API, certificates with the CLI', () => {
  let bench: RunningBench;
  let manager: ApiClient;
  let technician: ApiClient;
  let redis: Redis;
  let batchId: string;
  let runs: RunIds;
  const { dir, remove } = tempDir('bench-reports-');
  const benchEnv = () => ({ PATH: process.env.PATH, HOME: process.env.HOME, BENCH_HOME: bench.home });

  beforeAll(async () => {
    bench = await startBench(['--simulate', '1', '--speed', '50'], { BENCH_SHOP_NAME: 'Fix-It Ltd' });
    await addUser(bench.home, 'max', 'manager', 'manager-password');
    await addUser(bench.home, 'tom', 'technician', 'technician-password');
    manager = await ApiClient.login(bench.serverUrl(), 'max', 'manager-password');
    technician = await ApiClient.login(bench.serverUrl(), 'tom', 'technician-password');
    // The night reaches the database the way agents' events do: through the stream and the recorder.
    redis = createRedis(bench.state().redis.url, 'worker');
    const publisher = new EventPublisher(redis);
    const db = bench.database();
    await publisher.publish(topologyEvent());
    await waitFor(
      async () => (await db.prisma.slot.count({ where: { benchId: BENCH_ID } })) === 6,
      30_000,
      'the recorder to write the topology of night-pc',
    );
    ({ batchId, runs } = await createBatch(db));
    const events = nightEvents(runs);
    for (const event of events) await publisher.publish(event);
    await waitFor(
      async () => (await db.prisma.event.count({ where: { hostId: HOST } })) === events.length + 1,
      60_000,
      'the recorder to write the night',
    );
  });

  afterAll(async () => {
    redis?.disconnect();
    await bench?.stop();
    remove();
  });

  const get = (client: ApiClient, route: string) =>
    fetch(`${bench.serverUrl()}${route}`, { headers: { authorization: `Bearer ${client.token}` } });

  it('serves the batch report as JSON to managers', async () => {
    const answer = await manager.call<BatchReport>('batchReportJson', { batchId });
    expect(answer.status).toBe(200);
    expect(answer.body.shop).toBe('Fix-It Ltd');
    expect(answer.body.batch).toMatchObject({
      id: batchId,
      name: 'Night of shelf N, "all of it"',
      state: 'done',
    });
    expectTheNight(answer.body, runs);
  });

  it('keeps reports from technicians and names an unknown batch', async () => {
    const refused = await technician.call<ErrorBody>('batchReportJson', { batchId });
    expect(refused.status).toBe(403);
    for (const name of ['batchReportJson', 'batchReportCsv', 'batchReportHtml'] as const) {
      const missing = await manager.call<ErrorBody>(name, { batchId: 'no-such-batch' });
      expect(missing.status).toBe(404);
      expect(missing.body.message).toBe('no batch no-such-batch');
    }
  });

  it('serves the CSV as an RFC 4180 attachment, one line per phone', async () => {
    const response = await get(manager, apiPath('batchReportCsv', { batchId }));
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/csv; charset=utf-8/);
    expect(response.headers.get('content-disposition')).toBe(`attachment; filename="batch-${batchId}.csv"`);
    const text = await response.text();
    expect(text.endsWith('\r\n')).toBe(true);
    const lines = text.split('\r\n');
    expect(lines[0]).toMatch(/^run_id,batch_id,ecid,serial_number,model,/);
    expect(lines).toHaveLength(1 + 6 + 1);
    const first = lines.find((line) => line.startsWith(runs.first))!;
    expect(first).toContain(
      `,${PHONES.first.ecid},,"iPhone14,2",,17.5,18.6,22G86,${IPSW.sha256},${HOST},1-2.1,N1,`,
    );
    expect(first).toMatch(/,600,1,#1 done,done,,$/);
    const unsigned = lines.find((line) => line.startsWith(runs.unsigned))!;
    expect(unsigned).toMatch(/,attention,signing-refused,"TSS refused 22G86, ""not signed"""$/);
    const retried = lines.find((line) => line.startsWith(runs.retried))!;
    expect(retried).toContain(',2,#1 transient-usb; #2 done,done,');
    // The same file from the command line, straight from the database.
    const out = path.join(dir, 'night.csv');
    const cli = await runBench(['report', batchId, '--format', 'csv', '--out', out], { env: benchEnv() });
    expect(cli.code).toBe(0);
    expect(cli.stdout).toBe(`wrote ${out} (csv, 6 phones)\n`);
    expect(readFileSync(out, 'utf8')).toBe(text);
  });

  it('serves a self-contained morning report page that prints to PDF', async () => {
    const response = await get(manager, apiPath('batchReportHtml', { batchId }));
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/html; charset=utf-8/);
    expect(response.headers.get('content-security-policy')).toBe(
      "default-src 'none'; style-src 'unsafe-inline'",
    );
    const html = await response.text();
    expect(html).not.toContain(HOSTILE);
    expect(html).not.toContain('N6 <b>&');
    expect(html).toContain('N6 &lt;b&gt;&amp;');
    expect(html).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;');
    expect(html).toContain('Needs a human (4)');
    expect(html).toContain('Done after retries (1)');
    expect(html).toContain('Quarantined slots (1)');
    const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: ['--no-sandbox'] });
    try {
      const page = await browser.newPage();
      await page.setContent(html);
      expect(await page.locator('#needs-human tbody tr').count()).toBe(4);
      expect(await page.locator('#devices tbody tr').count()).toBe(6);
      expect(await page.locator('script').count()).toBe(0);
      const pdf = await page.pdf({ preferCSSPageSize: true });
      expect(pdf.subarray(0, 5).toString('latin1')).toBe('%PDF-');
      const pages = pdf.toString('latin1').match(/\/Type\s*\/Page[^s]/g) ?? [];
      expect(pages.length).toBeGreaterThanOrEqual(1);
      writeFileSync(path.join(dir, 'night.pdf'), pdf);
    } finally {
      await browser.close();
    }
  });

  describe('restore certificates', () => {
    let file: string;
    let certificate: RestoreCertificate;
    const verify = (target: string, ...extra: string[]) =>
      runBench(['verify-certificate', target, ...extra], { env: benchEnv() });
    const tampered = (name: string, change: (copy: RestoreCertificate) => void): string => {
      const copy = JSON.parse(JSON.stringify(certificate)) as RestoreCertificate;
      change(copy);
      const target = path.join(dir, `${name}.json`);
      writeFileSync(target, JSON.stringify(copy, null, 2));
      return target;
    };

    beforeAll(async () => {
      const response = await get(technician, apiPath('runCertificate', { runId: runs.first }));
      expect(response.status).toBe(200);
      expect(response.headers.get('content-disposition')).toBe(
        `attachment; filename="restore-certificate-${PHONES.first.ecid}-${runs.first}.json"`,
      );
      const text = await response.text();
      certificate = JSON.parse(text) as RestoreCertificate;
      file = path.join(dir, 'certificate.json');
      writeFileSync(file, text);
    });

    it('states the restore and is signed by the shop key kept under var/keys', () => {
      const keyFile = path.join(bench.home, 'var/keys/shop-ed25519.pem');
      expect(statSync(keyFile).mode & 0o777).toBe(0o600);
      const publicPem = readFileSync(path.join(bench.home, 'var/keys/shop-ed25519.pub.pem'), 'utf8');
      expect(publicPem).toMatch(/^-----BEGIN PUBLIC KEY-----/);
      expect(certificate.certificate).toMatchObject({
        version: 1,
        shop: 'Fix-It Ltd',
        runId: runs.first,
        ecid: PHONES.first.ecid,
        model: 'iPhone14,2',
        fromVersion: '17.5',
        toVersion: '18.6',
        build: '22G86',
        ipswSha256: IPSW.sha256,
        slot: { hostId: HOST, portPath: '1-2.1', label: 'N1' },
        operator: 'night-batch',
        outcome: 'done',
        attempts: [{ number: 1, outcome: 'done', failureClass: null }],
      });
      expect(certificate.signature.algorithm).toBe('Ed25519');
    });

    it('verifies with the bench key, and with the public key alone (a customer)', async () => {
      const result = await verify(file);
      expect(result.code).toBe(0);
      expect(result.stdout).toBe(
        `valid: ${PHONES.first.ecid} iPhone14,2 restored to 18.6 (22G86) on ${certificate.certificate.finishedAt} by Fix-It Ltd, key ${certificate.certificate.keyId}\n`,
      );
      const customer = await runBench(
        ['verify-certificate', file, '--key', path.join(bench.home, 'var/keys/shop-ed25519.pub.pem')],
        { env: { PATH: process.env.PATH, HOME: process.env.HOME, BENCH_HOME: dir } },
      );
      expect(customer.code).toBe(0);
      expect(customer.stdout).toMatch(/^valid: /);
    });

    it('refuses a certificate whose version or ECID was changed', async () => {
      for (const target of [
        tampered('version', (c) => (c.certificate.toVersion = '18.7')),
        tampered('ecid', (c) => (c.certificate.ecid = '00000000000000A9')),
      ]) {
        const result = await verify(target);
        expect(result.code).toBe(1);
        expect(result.stdout).toBe(
          `invalid: ${target}: a field was changed after the certificate was signed (its contents no longer match its digest)\n`,
        );
      }
    });

    it('refuses a changed signature, and a change whose digest was recomputed', async () => {
      const signature = tampered('signature', (c) => {
        const bytes = Buffer.from(c.signature.value, 'base64');
        bytes[0] ^= 0x01;
        c.signature.value = bytes.toString('base64');
      });
      const forged = tampered('forged', (c) => {
        c.certificate.toVersion = '18.7';
        c.digest = certificateDigest(c.certificate);
      });
      for (const target of [signature, forged]) {
        const result = await verify(target);
        expect(result.code).toBe(1);
        expect(result.stdout).toMatch(
          /^invalid: .*: the signature does not match: it was altered, or not made by key /,
        );
      }
    });

    it('refuses a certificate checked against another key, naming both', async () => {
      const other = generateKeyPairSync('ed25519').publicKey;
      const keyFile = path.join(dir, 'other.pub.pem');
      writeFileSync(keyFile, other.export({ type: 'spki', format: 'pem' }));
      const result = await verify(file, '--key', keyFile);
      expect(result.code).toBe(1);
      expect(result.stdout).toBe(
        `invalid: ${file}: wrong key: the certificate was signed with key ${certificate.certificate.keyId}, the key given is ${keyFingerprint(other)}\n`,
      );
    });

    it('names what is wrong with malformed input, and exits 2 for what it cannot read', async () => {
      const broken = path.join(dir, 'broken.json');
      writeFileSync(broken, readFileSync(file, 'utf8').slice(0, 100));
      const malformed = await verify(broken);
      expect(malformed.code).toBe(1);
      expect(malformed.stdout).toMatch(/^invalid: .*broken\.json: malformed JSON: /);
      const missing = tampered(
        'missing',
        (c) => delete (c.certificate as Partial<RestoreCertificate['certificate']>).ecid,
      );
      const shape = await verify(missing);
      expect(shape.code).toBe(1);
      expect(shape.stdout).toMatch(/not a bench restore certificate: certificate\.ecid/);
      const absent = await verify(path.join(dir, 'absent.json'));
      expect(absent.code).toBe(2);
      expect(absent.stderr).toMatch(/^bench: cannot read .*absent\.json: ENOENT/);
      const noKey = await runBench(['verify-certificate', file], {
        env: { PATH: process.env.PATH, HOME: process.env.HOME, BENCH_HOME: dir },
      });
      expect(noKey.code).toBe(2);
      expect(noKey.stderr).toMatch(
        /this bench has no shop key yet .*pass the shop's public key with --key FILE/,
      );
    });

    it('gives no certificate for a run that did not end done, nor for an unknown run', async () => {
      const bricked = await technician.call<ErrorBody>('runCertificate', { runId: runs.bricked });
      expect(bricked.status).toBe(409);
      expect(bricked.body.message).toBe(
        `run ${runs.bricked} did not end done (it is bricked): no certificate`,
      );
      const unknown = await technician.call<ErrorBody>('runCertificate', { runId: 'no-such-run' });
      expect(unknown.status).toBe(404);
      expect(unknown.body.message).toBe('no run no-such-run');
    });
  });

  it("certifies a simulated phone's real restore with the SHA-256 of the IPSW the agent used", async () => {
    const slots = await technician.call<SlotView[]>('slots');
    const slot = slots.body.find((s) => s.hostId !== HOST)!;
    // The simulated bench restores a phone as soon as it is plugged in: certify that run.
    const run = await waitFor(
      async () => {
        const [view] = (await technician.call<RunView[]>('runs', {}, undefined, `?slotId=${slot.id}`)).body;
        return view?.state === 'done' || view?.state === 'failed' ? view : undefined;
      },
      150_000,
      'the simulated restore to end',
    );
    expect(run.state).toBe('done');
    const answer = await technician.call<RestoreCertificate>('runCertificate', { runId: run.id });
    expect(answer.status).toBe(200);
    const firmwareDir = path.join(bench.home, 'var/sim-firmware');
    const [ipsw] = readdirSync(firmwareDir).filter((name) => name.endsWith('.ipsw'));
    const sha256 = createHash('sha256')
      .update(readFileSync(path.join(firmwareDir, ipsw)))
      .digest('hex');
    expect(answer.body.certificate).toMatchObject({
      runId: run.id,
      ecid: run.deviceEcid,
      ipswSha256: sha256,
      outcome: 'done',
      toVersion: expect.any(String),
      build: expect.any(String),
    });
    const file = path.join(dir, 'simulated.json');
    writeFileSync(file, JSON.stringify(answer.body));
    const verified = await runBench(['verify-certificate', file], { env: benchEnv() });
    expect(verified.code).toBe(0);
    expect(verified.stdout).toMatch(new RegExp(`^valid: ${run.deviceEcid} `));
  });

  it('bench report names an unknown batch and a bad format', async () => {
    const unknown = await runBench(['report', 'no-such-batch'], { env: benchEnv() });
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/^bench report: no batch no-such-batch in sqlite /);
    const format = await runBench(['report', batchId, '--format', 'pdf'], { env: benchEnv() });
    expect(format.code).toBe(2);
    expect(format.stderr).toBe("bench report: unknown format 'pdf'; expected one of: json, csv, html\n");
    const html = await runBench(['report', batchId, '--format', 'html'], { env: benchEnv() });
    expect(html.code).toBe(0);
    expect(html.stdout).toMatch(/^<!DOCTYPE html>/);
  });
});
