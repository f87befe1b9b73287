// Chaos: malformed input at every external edge, thrown at a bench that is restoring phones.
//   - from a device: usbmuxd replies, lockdownd, restored and ASR messages (bench's own clients
//     against a usbmuxd endpoint that lies on purpose, test/chaos/fake-device.ts);
//   - IPSW files (`bench firmware verify`);
//   - bench.config.yaml, the environment and the webhook config (`bench start`);
//   - API bodies and socket.io messages (the running server).
// Each input must get a clear error naming what was wrong (a regular expression per case). The
// bench restoring meanwhile must not crash, and its phones' runs must end done, once each.
import { randomBytes } from 'node:crypto';
import { createWriteStream, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { io, type Socket } from 'socket.io-client';
import { ZipFile } from 'yazl';
import { buildSyntheticIpsw } from '@bench/device-sim';
import { apiPath } from '@bench/events';
import { encodeBigEndianLengthPrefixed, encodePlistXml, type PlistDict } from '@bench/protocols';
import { AsrSender, LockdownClient, RestoredClient, UsbmuxClient } from '@bench/usb-transport';
import { childEnv, runBench, tempDir, waitFor } from '@bench/testing';
import { addUser, ApiClient } from '../support/api-client';
import { startBench, type RunningBench } from '../e2e/bench-process.helper';
import { crashCount, exitReport, LiveSlots, outputTail, settledLedger } from './chaos-bench';
import {
  FakeDevice,
  lengthPrefixed,
  usbmuxPacket,
  usbmuxReply,
  type FakeDeviceScenario,
} from './fake-device';
import { recordFigures } from './figures';

jest.setTimeout(8 * 60_000);

const PHONES = 2;
const HOST = 'chaos-input';

type Edge = 'device' | 'ipsw' | 'config' | 'webhook config' | 'api body' | 'socket message';

interface MalformedCase {
  edge: Edge;
  name: string;
  /** Feeds the input in; resolves with the error the bench gave (text), rejects if it gave none. */
  feed: () => Promise<string>;
  /** What a clear error says. */
  expected: RegExp;
}

interface Outcome {
  edge: Edge;
  name: string;
  said: string;
  clear: boolean;
}

/** The error a promise ends in, as text: `Class [failure class]: message`. A success is no error. */
async function errorOf(work: () => Promise<unknown>): Promise<string> {
  try {
    const result = await work();
    throw new Error(`no error: it resolved with ${JSON.stringify(result)?.slice(0, 200)}`);
  } catch (error) {
    if (!(error instanceof Error)) return `non-Error thrown: ${String(error)}`;
    if (error.message.startsWith('no error: ')) throw error;
    const failureClass = (error as { failureClass?: string }).failureClass;
    return `${error.constructor.name}${failureClass ? ` [${failureClass}]` : ''}: ${error.message}`;
  }
}

const plistFrame = (dict: PlistDict) => encodeBigEndianLengthPrefixed(encodePlistXml(dict));
const MiB = 1024 * 1024;
/** The filesystem image the ASR sender would stream (1 MiB of zeros). */
const IMAGE = {
  size: MiB,
  read: async (offset: number, length: number) => Buffer.alloc(Math.min(length, MiB - offset)),
};

/** Plists and frames a lying device (or usbmuxd) sends to bench's clients. */
function deviceCases(fake: FakeDevice, usbmux: () => UsbmuxClient): MalformedCase[] {
  const device = (
    name: string,
    scenario: FakeDeviceScenario,
    work: () => Promise<unknown>,
    expected: RegExp,
  ) => ({
    edge: 'device' as const,
    name,
    feed: () => {
      fake.scenario = scenario;
      return errorOf(work);
    },
    expected,
  });
  const lockdown = () => LockdownClient.open(usbmux(), fake.deviceId, { receiveTimeoutMs: 3_000 });
  const restored = () => RestoredClient.open(usbmux(), fake.deviceId, { receiveTimeoutMs: 3_000 });
  const asr = async () =>
    new AsrSender(await usbmux().connect(fake.deviceId, 12345), IMAGE, { commandTimeoutMs: 3_000 }).send();
  const initiated = (then: PlistDict): FakeDeviceScenario => ({
    deviceSpeaksFirst: encodePlistXml({ Command: 'Initiate' }),
    afterHostSpeaks: encodePlistXml(then),
  });
  return [
    device(
      'usbmux header shorter than itself',
      { usbmuxReply: (tag) => usbmuxPacket(tag, '', { length: 8 }) },
      () => usbmux().listDevices(),
      /^UsbmuxError.*: usbmuxd sent a malformed packet: usbmux frame announces an impossible length \(8\)/,
    ),
    device(
      'usbmux frame of 2 GiB',
      { usbmuxReply: (tag) => usbmuxPacket(tag, 'x', { length: 0x7fffffff }) },
      () => usbmux().listDevices(),
      /^UsbmuxError.*: usbmuxd sent a malformed packet: usbmux frame announces 2147483647 bytes, more than the \d+-byte limit/,
    ),
    device(
      'usbmux reply that is not a plist',
      { usbmuxReply: (tag) => usbmuxPacket(tag, 'garbage, not a plist') },
      () => usbmux().listDevices(),
      /^UsbmuxError.*: usbmuxd sent a malformed packet: not a plist/,
    ),
    device(
      'usbmux binary protocol version',
      {
        usbmuxReply: (tag) =>
          usbmuxPacket(tag, encodePlistXml({ MessageType: 'Result', Number: 0 }), { version: 9 }),
      },
      () => usbmux().listDevices(),
      /^UsbmuxError.*: usbmux packet uses version 9 message 8; only the plist protocol \(1\/8\) is spoken/,
    ),
    device(
      'usbmux ListDevices reply without DeviceList',
      { usbmuxReply: (tag) => usbmuxReply(tag, { MessageType: 'Result' }) },
      () => usbmux().listDevices(),
      /^UsbmuxError.*: ListDevices reply lacks DeviceList/,
    ),
    device(
      'usbmux device record without Properties',
      { usbmuxReply: (tag) => usbmuxReply(tag, { DeviceList: [{ DeviceID: 'x' }] }) },
      () => usbmux().listDevices(),
      /^UsbmuxError.*: usbmux device record lacks Properties/,
    ),
    device(
      'lockdownd plist cut off mid-tag',
      {
        afterHostSpeaks: lengthPrefixed(
          '<?xml version="1.0"?><plist version="1.0"><dict><key>Type</key><str',
        ),
      },
      async () => (await lockdown()).queryType(),
      /^DeviceServiceError \[unknown\]: lockdownd: undecodable message: malformed XML plist: unclosed xml tag/,
    ),
    device(
      'lockdownd frame of 2 GiB',
      { afterHostSpeaks: lengthPrefixed('<?xml', 0x7fffffff) },
      async () => (await lockdown()).queryType(),
      /^DeviceServiceError \[unknown\]: lockdownd: undecodable message: plist service frame announces \d+ bytes, more than the \d+-byte limit/,
    ),
    device(
      'lockdownd array instead of a dictionary',
      { afterHostSpeaks: lengthPrefixed(encodePlistXml(['a'] as never)) },
      async () => (await lockdown()).queryType(),
      /^DeviceServiceError \[unknown\]: lockdownd: undecodable message: expected a dictionary at the top of the plist, got an array/,
    ),
    device(
      'lockdownd QueryType reply without Type',
      { afterHostSpeaks: plistFrame({ Request: 'QueryType' }) },
      async () => (await lockdown()).queryType(),
      /QueryType reply lacks the required key 'Type'/,
    ),
    device(
      'restored that says it is lockdownd',
      { afterHostSpeaks: plistFrame({ Request: 'QueryType', Type: 'com.apple.mobile.lockdown' }) },
      async () => (await restored()).queryType(),
      /^DeviceServiceError \[unknown\]: restored: QueryType reply \(com\.apple\.mobile\.lockdown\) lacks an integer RestoreProtocolVersion/,
    ),
    device(
      'restored StatusMsg with a text Status',
      { deviceSpeaksFirst: plistFrame({ MsgType: 'StatusMsg', Status: 'bad' }) },
      async () => (await restored()).receiveMessage({ timeoutMs: 3_000 }),
      /^DeviceServiceError \[unknown\]: restored: StatusMsg 'Status' should be an integer/,
    ),
    device(
      'restored ProgressMsg with text fields',
      { deviceSpeaksFirst: plistFrame({ MsgType: 'ProgressMsg', Operation: 'x', Progress: 'y' }) },
      async () => (await restored()).receiveMessage({ timeoutMs: 3_000 }),
      /^DeviceServiceError \[unknown\]: restored: 'Operation' should be an integer, got string "x"/,
    ),
    device(
      'restored binary plist without its trailer',
      { deviceSpeaksFirst: lengthPrefixed(Buffer.from('bplist00\x01\x02\x03', 'latin1')) },
      async () => (await restored()).receiveMessage({ timeoutMs: 3_000 }),
      /^DeviceServiceError \[unknown\]: restored: undecodable message: malformed binary plist/,
    ),
    device(
      'ASR text that is not a plist',
      { deviceSpeaksFirst: Buffer.from('this is not a plist at all\n') },
      asr,
      /^AsrError \[unknown\]: ASR: undecodable message from the device: ASR message is not an XML plist \(it starts with "this is not a pl"\)/,
    ),
    device(
      'ASR that does not begin with Initiate',
      { deviceSpeaksFirst: encodePlistXml({ Command: 'Payload' }) },
      asr,
      /^AsrError \[unknown\]: ASR: the device began with Payload instead of Initiate/,
    ),
    device(
      'ASR OOBData past the end of the image',
      initiated({ Command: 'OOBData', 'OOB Offset': 2 * MiB, 'OOB Length': 4096 }),
      asr,
      /^AsrError \[unknown\]: ASR: OOBData asks for 4096 bytes at 2097152, past the 1048576-byte image/,
    ),
    device(
      'ASR OOBData at a negative offset',
      initiated({ Command: 'OOBData', 'OOB Offset': -5, 'OOB Length': 4096 }),
      asr,
      /^AsrError \[unknown\]: ASR: .*OOBData needs non-negative integers OOB Offset and OOB Length/,
    ),
    device(
      'ASR command nobody knows',
      initiated({ Command: 'Explode' }),
      asr,
      /^AsrError \[unknown\]: ASR: unexpected Command 'Explode'/,
    ),
  ];
}

/** A zip holding `members` (name → bytes), written to `file`. */
function writeZip(file: string, members: Record<string, Buffer | string>): Promise<void> {
  const zip = new ZipFile();
  for (const [name, bytes] of Object.entries(members)) zip.addBuffer(Buffer.from(bytes), name);
  zip.end();
  return new Promise((resolve, reject) => {
    const out = createWriteStream(file);
    zip.outputStream.pipe(out).on('close', resolve).on('error', reject);
  });
}

/** The one line `bench` printed on stderr, with its exit code; a success is no error. */
async function cliError(args: string[], env: NodeJS.ProcessEnv, cwd: string): Promise<string> {
  const result = await runBench(args, { env, cwd });
  if (result.code === 0) throw new Error(`no error: bench ${args.join(' ')} exited 0`);
  return `exit ${result.code}: ${result.stderr.trim()}`;
}

async function ipswCases(dir: string): Promise<MalformedCase[]> {
  const good = await buildSyntheticIpsw({
    productTypes: ['iPhone10,1'],
    out: path.join(dir, 'iPhone10,1_18.6.2_22G100_Restore.ipsw'),
    osSize: MiB,
  });
  const file = (name: string) => path.join(dir, name);
  writeFileSync(file('random.ipsw'), randomBytes(64 * 1024));
  writeFileSync(file('truncated.ipsw'), readFileSync(good.path).subarray(0, 200 * 1024));
  await writeZip(file('no-manifest.ipsw'), { 'Restore.plist': encodePlistXml({ ProductVersion: '18.6.2' }) });
  await writeZip(file('garbage-manifest.ipsw'), { 'BuildManifest.plist': 'this is not a plist' });
  await writeZip(file('empty-manifest.ipsw'), {
    'BuildManifest.plist': encodePlistXml({ ProductVersion: '18.6.2', ProductBuildVersion: '22G100' }),
  });
  const env = childEnv({ BENCH_HOME: dir });
  const verify = (name: string, expected: RegExp): MalformedCase => ({
    edge: 'ipsw',
    name,
    feed: () => cliError(['firmware', 'verify', file(name)], env, dir),
    expected,
  });
  return [
    verify('random.ipsw', /^exit 1: bench: .*random\.ipsw is not a readable zip/),
    verify('truncated.ipsw', /^exit 1: bench: .*truncated\.ipsw is not a readable zip/),
    verify('no-manifest.ipsw', /^exit 1: bench: .*no-manifest\.ipsw.*BuildManifest\.plist/),
    verify(
      'garbage-manifest.ipsw',
      /^exit 1: bench: .*garbage-manifest\.ipsw.*BuildManifest\.plist.*(plist|XML)/i,
    ),
    verify('empty-manifest.ipsw', /^exit 1: bench: .*empty-manifest\.ipsw.*BuildIdentities/),
  ];
}

/** `bench start` with a bench.config.yaml (or environment) that is wrong: exit 2, one line. */
function configCases(dir: string): MalformedCase[] {
  const start = (
    edge: Edge,
    name: string,
    yaml: string,
    expected: RegExp,
    env: Record<string, string> = {},
  ) => ({
    edge,
    name,
    feed: async () => {
      const home = path.join(dir, `config-${name.replace(/\W+/g, '-')}`);
      mkdirSync(home, { recursive: true });
      writeFileSync(path.join(home, 'bench.config.yaml'), yaml);
      return cliError(['start'], childEnv({ BENCH_HOME: home, ...env }), home);
    },
    expected,
  });
  const hosts = 'hosts:\n  - id: pc1\n';
  return [
    start(
      'config',
      'bad YAML',
      'hosts:\n  - id: pc1\n    benches: [\n',
      /^exit 2: bench: bench\.config\.yaml:4:1: invalid YAML: /,
    ),
    start(
      'config',
      'duplicate port path',
      `${hosts}    benches:\n      - id: a\n        slots:\n          - { port: 1-1.2, label: A1 }\n          - { port: 1-1.2, label: A2 }\n`,
      /^exit 2: bench: bench\.config\.yaml:7:15: .*duplicate port path '1-1\.2' \(already used at line 6\)/,
    ),
    start(
      'config',
      'unknown key',
      `${hosts}    colour: red\n`,
      /^exit 2: bench: bench\.config\.yaml:3:5: hosts\[0\]\.colour: unknown key 'colour'/,
    ),
    start(
      'config',
      'missing label',
      `${hosts}    benches:\n      - id: a\n        slots:\n          - port: 1-1.2\n`,
      /^exit 2: bench: bench\.config\.yaml:6:13: .*\.label: required/,
    ),
    start(
      'config',
      'retry rule for a failure class that does not exist',
      'policies:\n  night:\n    rules:\n      gremlins: { action: retry }\n',
      /^exit 2: bench: bench\.config\.yaml:4:\d+: policies\.night\.rules\.gremlins: .*(transient-usb|expected)/,
    ),
    start(
      'config',
      'environment: a speed that is not a number',
      '',
      /^exit 2: bench: invalid environment:.*BENCH_SIM_SPEED="fast"/s,
      { BENCH_SIMULATE: '2', BENCH_SIM_SPEED: 'fast' },
    ),
    start(
      'webhook config',
      'webhook to an ftp URL',
      'alerts:\n  webhooks:\n    - { url: "ftp://alerts.example/hook", secret: "0123456789abcdef" }\n',
      /^exit 2: bench: bench\.config\.yaml:3:\d+: alerts\.webhooks\[0\]\.url: expected an http\(s\) URL/,
    ),
    start(
      'webhook config',
      'webhook with a short secret',
      'alerts:\n  webhooks:\n    - { url: "https://alerts.example/hook", secret: "short" }\n',
      /^exit 2: bench: bench\.config\.yaml:3:\d+: alerts\.webhooks\[0\]\.secret: expected a secret of at least 16 characters/,
    ),
    start(
      'webhook config',
      'webhook for a state that does not exist',
      'alerts:\n  webhooks:\n    - { url: "https://alerts.example/hook", secret: "0123456789abcdef", states: [exploded] }\n',
      /^exit 2: bench: bench\.config\.yaml:3:\d+: alerts\.webhooks\[0\]\.states\[0\]: .*(stuck|expected)/,
    ),
  ];
}

interface ErrorBody {
  statusCode?: number;
  message?: string;
  details?: string[];
}

/** Bad bodies to the running server's API: a 400 naming the field (or what was wrong). */
function apiCases(manager: () => ApiClient, admin: () => ApiClient, slotId: () => string): MalformedCase[] {
  const answer = async (work: () => Promise<{ status: number; body: ErrorBody }>) => {
    const { status, body } = await work();
    if (status < 400) throw new Error(`no error: HTTP ${status}`);
    return `${status}: ${body.message ?? ''}${body.details ? ` [${body.details.join('; ')}]` : ''}`;
  };
  const batch = (name: string, body: unknown, expected: RegExp): MalformedCase => ({
    edge: 'api body',
    name,
    feed: () => answer(() => manager().call<ErrorBody>('createBatch', {}, body)),
    expected,
  });
  const valid = { name: 'chaos', firmware: 'latest', behavior: 'erase', benchIds: [`${HOST}-sim`] };
  return [
    batch(
      'batch without a name',
      { ...valid, name: undefined },
      /^400: invalid request: name: required \[name: required\]$/,
    ),
    batch('batch with behavior "wipe"', { ...valid, behavior: 'wipe' }, /^400: .*behavior/),
    batch(
      'batch firmware that is no build',
      { ...valid, firmware: 'newest' },
      /^400: .*firmware: must be "latest" or a build number/,
    ),
    batch(
      'batch starting "tonight"',
      { ...valid, startAt: 'tonight' },
      /^400: .*startAt: must be an ISO 8601 time/,
    ),
    batch(
      'batch starting in 2020',
      { ...valid, startAt: '2020-01-01T00:00:00Z' },
      /^400: startAt: 2020-01-01T00:00:00\.000Z is in the past/,
    ),
    batch(
      'batch with an unknown policy',
      { ...valid, policy: 'weekend' },
      /^400: policy: unknown policy weekend; expected one of: /,
    ),
    batch(
      'batch on a bench that does not exist',
      { ...valid, benchIds: ['shelf-z'] },
      /^400: benchIds: no bench shelf-z/,
    ),
    batch(
      'batch with slotIds as a string',
      { ...valid, slotIds: 'all' },
      /^400: invalid request: slotIds: must be an array \[slotIds: must be an array\]$/,
    ),
    batch('batch with an unknown field', { ...valid, colour: 'red' }, /^400: .*colour: unknown field/),
    {
      edge: 'api body',
      name: 'run request cut off mid-JSON',
      feed: () =>
        answer(() =>
          manager().raw<ErrorBody>('POST', apiPath('startRun', { slotId: slotId() }), '{"firmware":'),
        ),
      expected: /^400: invalid JSON body/,
    },
    {
      edge: 'api body',
      name: 'user with a five-letter password',
      feed: () =>
        answer(() =>
          admin().call<ErrorBody>('createUser', {}, { username: 'eve', password: 'short', role: 'admin' }),
        ),
      expected: /^400: .*password/,
    },
    {
      edge: 'api body',
      name: 'user with the role "god"',
      feed: () =>
        answer(() =>
          admin().call<ErrorBody>(
            'createUser',
            {},
            { username: 'eve', password: 'a long enough password', role: 'god' },
          ),
        ),
      expected: /^400: .*role/,
    },
  ];
}

/** Untyped on purpose: the typed event map would not let a test send what a broken client sends. */
type FloorClient = Socket;

/** Malformed socket.io messages and handshakes: an error answer, and the connection stays usable. */
function socketCases(serverUrl: () => string, token: () => string, sockets: FloorClient[]): MalformedCase[] {
  const connect = (auth: Record<string, unknown>) =>
    new Promise<FloorClient>((resolve, reject) => {
      const socket: FloorClient = io(serverUrl(), {
        path: '/socket.io',
        auth,
        transports: ['websocket'],
        reconnection: false,
      });
      sockets.push(socket);
      socket.on('connect', () => resolve(socket));
      socket.on('connect_error', reject);
    });
  let shared: Promise<FloorClient> | undefined;
  const subscribe = (
    name: string,
    message: unknown,
    event: 'subscribe' | 'unsubscribe' = 'subscribe',
  ): MalformedCase => ({
    edge: 'socket message',
    name,
    feed: async () => {
      const socket = await (shared ??= connect({ token: token() }));
      const ack = (await socket.timeout(5_000).emitWithAck(event, message)) as {
        ok: boolean;
        error?: string;
      };
      if (ack.ok) throw new Error(`no error: ${event} ${JSON.stringify(message)} was accepted`);
      // The same connection still works after the bad message.
      const good = (await socket.timeout(5_000).emitWithAck('subscribe', { all: true })) as { ok: boolean };
      return `${ack.error}${good.ok ? '' : ' (and the connection stopped working)'}`;
    },
    expected:
      event === 'subscribe'
        ? /^expected \{ all\?: boolean, benchId\?: string, slotId\?: string \}$/
        : /^expected \{ benchId\?: string, slotId\?: string \}$/,
  });
  const handshake = (name: string, auth: Record<string, unknown>): MalformedCase => ({
    edge: 'socket message',
    name,
    feed: () => errorOf(() => connect(auth)),
    expected: /^Error: unauthorized: log in first \(missing or invalid token\)$/,
  });
  return [
    subscribe('subscribe with a string', 'everything'),
    subscribe('subscribe with all: "yes"', { all: 'yes' }),
    subscribe('subscribe with a numeric benchId', { benchId: 5 }),
    subscribe('subscribe with an unknown room kind', { hostId: 'x' }),
    subscribe('subscribe with an array', [{ all: true }]),
    subscribe('unsubscribe with null', null, 'unsubscribe'),
    handshake('handshake with a forged token', { token: 'bench_forged' }),
    handshake('handshake with a numeric token', { token: 12345 }),
  ];
}

describe('malformed input at every external edge', () => {
  const { dir, remove } = tempDir('bench-chaos-input-');
  const fake = new FakeDevice();
  const sockets: FloorClient[] = [];
  let bench: RunningBench | undefined;
  let slots: LiveSlots | undefined;

  afterAll(async () => {
    for (const socket of sockets) socket.disconnect();
    slots?.close();
    await fake.close();
    await bench?.stop();
    remove();
  });

  it('answers every one with a clear error, crashes nothing and loses no run', async () => {
    // A bench restoring its simulated phones the whole time (they restore on plug).
    bench = await startBench(['--simulate', String(PHONES), '--speed', '30'], { BENCH_HOST_ID: HOST });
    const running = bench;
    await addUser(running.home, 'max', 'manager', 'manager-password');
    await addUser(running.home, 'root', 'admin', 'admin-password-123');
    const manager = await ApiClient.login(running.serverUrl(), 'max', 'manager-password');
    const admin = await ApiClient.login(running.serverUrl(), 'root', 'admin-password-123');
    slots = new LiveSlots(running.state().redis.url, HOST);
    const live = slots;
    const phones = await waitFor(
      async () => {
        const seen = await live.phones();
        return seen.length === PHONES ? seen : undefined;
      },
      90_000,
      'the simulated phones seen',
    );
    const floorSlots = (await manager.call<{ id: string; hostId: string }[]>('slots')).body;
    const address = await fake.listen();
    const usbmux = UsbmuxClient.forAddress(address, { requestTimeoutMs: 3_000 });

    const cases = [
      ...deviceCases(fake, () => usbmux),
      ...(await ipswCases(dir)),
      ...configCases(dir),
      ...apiCases(
        () => manager,
        () => admin,
        () => floorSlots[0].id,
      ),
      ...socketCases(
        () => running.serverUrl(),
        () => manager.token as string,
        sockets,
      ),
    ];
    const outcomes: Outcome[] = [];
    for (const input of cases) {
      const said = await input.feed().catch((error: Error) => `(no clear error) ${error.message}`);
      outcomes.push({ edge: input.edge, name: input.name, said, clear: input.expected.test(said) });
    }

    // Meanwhile the bench kept restoring: every phone's run ends done, once.
    const ledger = await settledLedger(
      running.database().prisma,
      phones.map((phone) => phone.ecid as string),
      180_000,
    );
    const exits = exitReport(running.process.output);
    recordFigures('malformed-inputs', {
      malformedInputs: outcomes.length,
      clearErrors: outcomes.filter((o) => o.clear).length,
      runsChecked: ledger.runs,
      runsLost: ledger.lost,
      runsDuplicated: ledger.duplicated,
      crashes: crashCount(exits),
    });
    process.stdout.write(
      `${outcomes.map((o) => `${o.clear ? 'clear  ' : 'UNCLEAR'} ${o.edge} / ${o.name}: ${o.said}`).join('\n')}\n`,
    );

    expect(outcomes.filter((o) => !o.clear)).toEqual([]);
    expect(outcomes.length).toBeGreaterThanOrEqual(30);
    expect(new Set(outcomes.map((o) => o.edge))).toEqual(
      new Set<Edge>(['device', 'ipsw', 'config', 'webhook config', 'api body', 'socket message']),
    );
    expect({ problems: ledger.problems, states: ledger.states }).toEqual({
      problems: [],
      states: { done: PHONES },
    });
    expect({ unexpected: exits.unexpected, traces: exits.traces }).toEqual({ unexpected: [], traces: [] });
    const health = await fetch(`${running.serverUrl()}/health`);
    expect({ health: health.status, tail: health.status === 200 ? '' : outputTail(running) }).toEqual({
      health: 200,
      tail: '',
    });
  });
});
