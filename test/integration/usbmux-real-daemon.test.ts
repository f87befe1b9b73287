// Our UsbmuxClient against the real Debian usbmuxd. usbmuxd 1.1.1 has no option for its socket
// path, so it runs in a private mount namespace (unshare, as root) with a temp dir bound over
// /run (its socket and pid file) and over /var/lib (pair records, SystemConfiguration.plist):
// the socket appears at <tmp>/run/usbmuxd for us and a system usbmuxd is never touched.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { decodePlistDict, type PairRecord } from '@bench/protocols';
import { runBench } from '@bench/testing';
import { PairRecordNotFoundError, UsbmuxClient, UsbmuxError } from '@bench/usb-transport';

const UUID = /^[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}$/i;

let root: string;
let daemon: ChildProcess;
let output = '';
let client: UsbmuxClient;

function canIsolate(): boolean {
  return process.getuid?.() === 0 && spawnSync('unshare', ['--mount', 'true']).status === 0;
}

async function waitForSocket(socketPath: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const probe = net.createConnection({ path: socketPath });
      probe.once('connect', () => {
        probe.destroy();
        resolve(true);
      });
      probe.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline || daemon.exitCode !== null) {
      throw new Error(`usbmuxd did not open ${socketPath}:\n${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

beforeAll(async () => {
  if (!canIsolate()) {
    throw new Error(
      'this test runs the real usbmuxd in a private mount namespace: it needs root and unshare',
    );
  }
  root = mkdtempSync(path.join(os.tmpdir(), 'bench-usbmuxd-'));
  mkdirSync(path.join(root, 'run'));
  mkdirSync(path.join(root, 'lib', 'lockdown'), { recursive: true });
  const script =
    `mount --bind "${root}/run" /run && mount --bind "${root}/lib" /var/lib && ` +
    // -f foreground, -n no hotplug discovery (no USB here), -v to see requests in the log
    'exec usbmuxd -f -n -v';
  daemon = spawn('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', script], { stdio: 'pipe' });
  daemon.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  daemon.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  await waitForSocket(path.join(root, 'run', 'usbmuxd'), 10_000);
  client = UsbmuxClient.forAddress(`UNIX:${path.join(root, 'run', 'usbmuxd')}`, {
    identity: { progName: 'bench-test', clientVersion: 'bench-usbmux-1' },
  });
}, 20_000);

afterAll(async () => {
  if (daemon && daemon.exitCode === null) {
    const exited = new Promise((resolve) => daemon.once('exit', resolve));
    daemon.kill('SIGTERM');
    await exited;
  }
  if (root) rmSync(root, { recursive: true, force: true });
});

describe('UsbmuxClient against the real usbmuxd', () => {
  it('lists no devices on a machine without iPhones', async () => {
    await expect(client.listDevices()).resolves.toEqual([]);
    expect(output).toMatch(/usbmuxd v\d/);
  });

  it('gets Listen acknowledged (Result 0) and ends the event stream cleanly on close', async () => {
    const events = await client.listen();
    const next = events.next();
    events.close();
    await expect(next).resolves.toEqual({ value: undefined, done: true });
  });

  it('reads the host BUID, a UUID the daemon keeps in SystemConfiguration.plist', async () => {
    const buid = await client.readBuid();
    expect(buid).toMatch(UUID);
    await expect(client.readBuid()).resolves.toBe(buid);
    const config = decodePlistDict(
      readFileSync(path.join(root, 'lib', 'lockdown', 'SystemConfiguration.plist')),
    );
    expect(config.SystemBUID).toBe(buid);
  });

  it('reports a missing pair record as "not paired", and saves, reads back and deletes one', async () => {
    const udid = '00008015-000A1B2C3D4E5F60';
    await expect(client.readPairRecord(udid)).rejects.toBeInstanceOf(PairRecordNotFoundError);
    await expect(client.readPairRecord(udid)).rejects.toMatchObject({
      kind: 'not-paired',
      failureClass: 'host-setup',
    });

    const record: PairRecord = {
      hostId: 'C1D2E3F4-0000-4000-8000-000000000001',
      systemBuid: await client.readBuid(),
      hostCertificate: Buffer.from('-----BEGIN CERTIFICATE-----\nhost\n-----END CERTIFICATE-----\n'),
      hostPrivateKey: Buffer.from('-----BEGIN PRIVATE KEY-----\nhostkey\n-----END PRIVATE KEY-----\n'),
      rootCertificate: Buffer.from('-----BEGIN CERTIFICATE-----\nroot\n-----END CERTIFICATE-----\n'),
      deviceCertificate: Buffer.from('-----BEGIN CERTIFICATE-----\ndevice\n-----END CERTIFICATE-----\n'),
      wifiMacAddress: 'aa:bb:cc:dd:ee:ff',
    };
    await client.savePairRecord(udid, record);
    expect(existsSync(path.join(root, 'lib', 'lockdown', `${udid}.plist`))).toBe(true);
    const back = await client.readPairRecord(udid);
    expect(back).toMatchObject({
      hostId: record.hostId,
      systemBuid: record.systemBuid,
      wifiMacAddress: record.wifiMacAddress,
    });
    expect(Buffer.from(back.hostCertificate).toString()).toBe(Buffer.from(record.hostCertificate).toString());
    await client.deletePairRecord(udid);
    await expect(client.readPairRecord(udid)).rejects.toBeInstanceOf(PairRecordNotFoundError);
  });

  it('refuses Connect to a device it does not have with BADDEV (transient-usb)', async () => {
    let caught: unknown;
    try {
      await client.connect(77, 62078);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(UsbmuxError);
    expect(caught).toMatchObject({ kind: 'result', resultNumber: 2, failureClass: 'transient-usb' });
  });

  it('`bench devices --json` prints [] against it', async () => {
    const result = await runBench(
      ['devices', '--json', '--usbmuxd', `UNIX:${path.join(root, 'run', 'usbmuxd')}`],
      {
        env: { PATH: process.env.PATH, BENCH_HOME: root },
      },
    );
    expect(result.stdout.trim()).toBe('[]');
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
  });

  it('calls an absent daemon socket host-setup', async () => {
    const absent = UsbmuxClient.forAddress(`UNIX:${path.join(root, 'no-such-socket')}`);
    await expect(absent.listDevices()).rejects.toMatchObject({
      kind: 'daemon-unreachable',
      failureClass: 'host-setup',
    });
  });
});
