// The driver against fake `idevicerestore` executables: shell scripts that print a real fixture
// (or the documented success sequence) and exit with its code. The process boundary is faked;
// spawning, line splitting, parsing, signals and the verdict are the real code.
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  BenchError,
  CancelledError,
  HostSetupError,
  StuckError,
  TransientUsbError,
} from '@bench/bench-domain';
import type { RestoreEvent } from '../restore-events';
import { IdevicerestoreDriver, type IdevicerestoreRunOptions } from './driver';

const FIXTURES = path.resolve(__dirname, '../../../../test/fixtures/idevicerestore-logs');

// The line sequence of a successful Debian 1.0.0 run (reference/idevicerestore-1.0.0-restore-mode.md §6).
const SUCCESS_OUTPUT = [
  'Found device in Restore mode',
  'About to restore device... ',
  'Connected to com.apple.mobile.restored, version 14',
  'About to send filesystem...',
  'Sending filesystem now...',
  'progress: 2 0.500000',
  'progress: 2 1.000000',
  'Done sending filesystem',
  'Verifying restore (14)',
  'progress: 3 1.000000',
  'Got status message',
  'Status: Restore Finished',
  'Cleaning up...',
  'DONE',
  'progress: 6 1.000000',
].join('\n');

let dir: string;

beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'bench-idevicerestore-'));
});

afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** A fake idevicerestore: records its argv and environment, prints `output`, then runs `then`. */
function fakeIdevicerestore(
  output: string,
  then = 'exit 0',
  help = "  -s, --cydia           Use Cydia's signature service",
): string {
  const outputFile = path.join(dir, 'output.txt');
  const helpFile = path.join(dir, 'help.txt');
  writeFileSync(outputFile, output.endsWith('\n') ? output : `${output}\n`);
  writeFileSync(helpFile, `${help}\n`);
  const script = path.join(dir, 'idevicerestore');
  writeFileSync(
    script,
    [
      '#!/bin/sh',
      `if [ "$1" = "--help" ]; then cat '${helpFile}'; exit 0; fi`,
      `printf '%s\\n' "$@" > '${dir}/argv'`,
      `env > '${dir}/env'`,
      `cat '${outputFile}'`,
      'echo "ERROR: Unable to connect to FDR client (-2)" >&2',
      then,
    ].join('\n'),
  );
  chmodSync(script, 0o755);
  return script;
}

function request(overrides: Partial<IdevicerestoreRunOptions> = {}): IdevicerestoreRunOptions {
  return { ecid: '0x1234', behavior: 'erase', firmware: { ipswPath: '/srv/ipsw/iPhone.ipsw' }, ...overrides };
}

/** Running, in the sense that matters here: not gone and not a zombie waiting to be reaped. */
function isRunning(pid: number): boolean {
  const stat = `/proc/${pid}/stat`;
  if (!existsSync(stat)) return false;
  try {
    return readFileSync(stat, 'utf8').split(') ')[1]?.[0] !== 'Z';
  } catch {
    return false;
  }
}

async function rejection(promise: Promise<unknown>): Promise<BenchError> {
  const error: unknown = await promise.then(
    () => new Error('expected the run to fail'),
    (e: unknown) => e,
  );
  if (!(error instanceof BenchError)) throw error;
  return error;
}

describe('IdevicerestoreDriver', () => {
  it('resolves on "Status: Restore Finished" + DONE + exit 0, emitting progress and done', async () => {
    const events: RestoreEvent[] = [];
    const driver = new IdevicerestoreDriver({ binaryPath: fakeIdevicerestore(SUCCESS_OUTPUT) });
    const result = await driver.run(request({ onEvent: (event) => events.push(event) }));
    expect(result.verdict).toMatchObject({ ok: true, stage: 'finalize' });
    expect(events).toContainEqual(
      expect.objectContaining({ type: 'progress', stage: 'send-filesystem', percent: 50 }),
    );
    expect(events).toContainEqual(
      expect.objectContaining({ type: 'device', mode: 'restore', ecid: '0000000000001234' }),
    );
    expect(events.at(-1)).toMatchObject({ type: 'done' });
    expect(events.some((e) => e.type === 'failed')).toBe(false);
  });

  it('passes -i, -e, -y, -P, -C and the IPSW, and only the environment it was given', async () => {
    const binaryPath = fakeIdevicerestore(SUCCESS_OUTPUT);
    const driver = new IdevicerestoreDriver({
      binaryPath,
      env: { PATH: '/usr/bin:/bin', USBMUXD_SOCKET_ADDRESS: '127.0.0.1:27999' },
    });
    await driver.run(request({ cacheDir: '/var/cache/bench' }));
    expect(readFileSync(path.join(dir, 'argv'), 'utf8').trim().split('\n')).toEqual([
      '-i',
      '0x0000000000001234',
      '-e',
      '-y',
      '-P',
      '-C',
      '/var/cache/bench',
      '/srv/ipsw/iPhone.ipsw',
    ]);
    const env = readFileSync(path.join(dir, 'env'), 'utf8');
    expect(env).toMatch(/^USBMUXD_SOCKET_ADDRESS=127\.0\.0\.1:27999$/m);
    expect(env).not.toMatch(/^HOME=/m);
  });

  it('rejects with the parsed class and evidence when the output shows a failure', async () => {
    const events: RestoreEvent[] = [];
    const output = readFileSync(path.join(FIXTURES, 'ibec-upload-failed.log'), 'utf8');
    const driver = new IdevicerestoreDriver({ binaryPath: fakeIdevicerestore(output, 'exit 255') });
    const error = await rejection(driver.run(request({ onEvent: (event) => events.push(event) })));
    expect(error).toBeInstanceOf(TransientUsbError);
    expect(error.message).toBe('ERROR: Unable to send iBEC component: Unable to upload data to device');
    expect(error.evidence).toMatchObject({ stage: 'send-ibec' });
    expect(error.evidence.detail).toMatch(/exit code 255/);
    expect(events.filter((e) => e.type === 'stage').map((e) => (e.type === 'stage' ? e.stage : ''))).toEqual([
      'send-ibec',
    ]);
    expect(events.at(-1)).toMatchObject({ type: 'failed', failureClass: 'transient-usb' });
  });

  it('carries the device log and status code of a StatusMsg failure', async () => {
    const output = readFileSync(path.join(FIXTURES, 'fdr-recover-failed.log'), 'utf8');
    const driver = new IdevicerestoreDriver({ binaryPath: fakeIdevicerestore(output, 'exit 255') });
    const error = await rejection(driver.run(request()));
    expect(error.failureClass).toBe('device-hardware');
    expect(error.evidence).toMatchObject({
      statusCode: 53,
      lastDeviceMessage: 'Status: Failed to recover FDR data.',
    });
    expect(error.evidence.deviceLog).toContain('got http failures');
  });

  it('does not take exit 0 with DONE but no "Status: Restore Finished" for success', async () => {
    const output = readFileSync(path.join(FIXTURES, 'nordata-quit-done-without-finished.log'), 'utf8');
    const driver = new IdevicerestoreDriver({ binaryPath: fakeIdevicerestore(output, 'exit 0') });
    const error = await rejection(driver.run(request()));
    expect(error.failureClass).toBe('unknown');
    expect(error.evidence.stage).toBe('flash-firmware');
  });

  it('is not a success when the process fails after "Status: Restore Finished"', async () => {
    const driver = new IdevicerestoreDriver({
      binaryPath: fakeIdevicerestore(SUCCESS_OUTPUT, 'kill -SEGV $$'),
    });
    const error = await rejection(driver.run(request()));
    expect(error.failureClass).toBe('unknown');
    expect(error.message).toMatch(/signal SIGSEGV/);
  });

  it('cancels on abort: SIGTERM to its process group, nothing left running', async () => {
    const controller = new AbortController();
    const pids = path.join(dir, 'pids');
    const binaryPath = fakeIdevicerestore(
      'Found device in Recovery mode\nSending iBEC (458120 bytes)...',
      `sleep 30 & echo "$$ $!" > '${pids}'; wait`,
    );
    const driver = new IdevicerestoreDriver({ binaryPath, killGraceMs: 2_000 });
    const events: RestoreEvent[] = [];
    const run = driver.run(
      request({
        signal: controller.signal,
        onEvent: (event) => {
          events.push(event);
          if (event.type === 'stage' && event.stage === 'send-ibec') {
            setTimeout(() => controller.abort(), 100);
          }
        },
      }),
    );
    const error = await rejection(run);
    expect(error).toBeInstanceOf(CancelledError);
    expect(error.evidence.stage).toBe('send-ibec');
    expect(events.at(-1)).toMatchObject({ type: 'failed', failureClass: 'cancelled' });
    const [shell, sleeper] = readFileSync(pids, 'utf8').trim().split(' ').map(Number);
    expect(isRunning(shell)).toBe(false);
    expect(isRunning(sleeper)).toBe(false);
  });

  it('kills a child that ignores SIGTERM after the grace period', async () => {
    const controller = new AbortController();
    const binaryPath = fakeIdevicerestore(
      'Found device in DFU mode',
      "trap '' TERM; while true; do sleep 0.1; done",
    );
    const driver = new IdevicerestoreDriver({ binaryPath, killGraceMs: 300 });
    setTimeout(() => controller.abort(), 200);
    const started = Date.now();
    const error = await rejection(driver.run(request({ signal: controller.signal })));
    expect(error).toBeInstanceOf(CancelledError);
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('turns the overall timeout into stuck, at the stage reached', async () => {
    const binaryPath = fakeIdevicerestore(
      'Found device in Recovery mode\nWaiting for device to enter restore mode...',
      'sleep 30',
    );
    const driver = new IdevicerestoreDriver({ binaryPath, killGraceMs: 1_000 });
    const error = await rejection(driver.run(request({ timeoutMs: 300 })));
    expect(error).toBeInstanceOf(StuckError);
    expect(error.evidence.stage).toBe('boot-ramdisk');
  });

  it('does not start when the signal is already aborted', async () => {
    const controller = new AbortController();
    controller.abort();
    const driver = new IdevicerestoreDriver({ binaryPath: fakeIdevicerestore(SUCCESS_OUTPUT) });
    await expect(driver.run(request({ signal: controller.signal }))).rejects.toBeInstanceOf(CancelledError);
    expect(existsSync(path.join(dir, 'argv'))).toBe(false);
  });

  it('reports a missing binary as host setup', async () => {
    const driver = new IdevicerestoreDriver({ binaryPath: path.join(dir, 'no-such-idevicerestore') });
    const error = await rejection(driver.run(request()));
    expect(error).toBeInstanceOf(HostSetupError);
    expect(error.message).toMatch(/not found/);
  });

  it('refuses a signing URL for a build whose -s means Cydia (Debian 1.0.0)', async () => {
    const driver = new IdevicerestoreDriver({ binaryPath: fakeIdevicerestore(SUCCESS_OUTPUT) });
    const error = await rejection(
      driver.run(request({ tssUrl: 'http://127.0.0.1:8080/TSS/controller?action=2' })),
    );
    expect(error).toBeInstanceOf(HostSetupError);
    expect(existsSync(path.join(dir, 'argv'))).toBe(false);
  });

  it('passes -s URL to a build that has --server', async () => {
    const binaryPath = fakeIdevicerestore(
      SUCCESS_OUTPUT,
      'exit 0',
      '  -s, --server URL      Override default signing server request URL',
    );
    const driver = new IdevicerestoreDriver({ binaryPath });
    await driver.run(
      request({
        tssUrl: 'http://127.0.0.1:8080/TSS/controller?action=2',
        behavior: 'update',
        firmware: { latest: true },
      }),
    );
    expect(readFileSync(path.join(dir, 'argv'), 'utf8').trim().split('\n')).toEqual([
      '-i',
      '0x0000000000001234',
      '-y',
      '-P',
      '-s',
      'http://127.0.0.1:8080/TSS/controller?action=2',
      '--latest',
    ]);
  });
});
