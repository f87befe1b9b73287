// Starts USB-level emulation for a simulated bus: the simulator's UsbBridge listens on a Unix
// socket, the umockdev harness (usbdevfs_harness.py, under umockdev-wrapper) connects and builds
// the testbed, and programs started with `emulation.env()` (LD_PRELOAD + UMOCKDEV_DIR) see the
// simulated phones as USB devices: the real `usb` package, irecovery, `bench restore`.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { UsbBridge, type SimulatedUsbBus } from '@bench/device-sim';

export const HARNESS = path.join(__dirname, 'usbdevfs_harness.py');
const PYTHON = '/usr/bin/python3';
const WRAPPER = '/usr/bin/umockdev-wrapper';
const PRELOAD = 'libumockdev-preload.so.0';
const INSTALL = 'apt-get install -y umockdev gir1.2-umockdev-1.0 python3-gi irecovery';

export interface UsbEmulation {
  /** The testbed root: UMOCKDEV_DIR of programs under test. */
  readonly root: string;
  readonly bridge: UsbBridge;
  /** The environment of a program that should see the emulated devices (on top of `base`). */
  env(base?: NodeJS.ProcessEnv): NodeJS.ProcessEnv;
  /** Resolves when the testbed shows the simulated bus as it is now; throws harness errors. */
  settled(timeoutMs?: number): Promise<void>;
  /** What the harness printed (its errors; umockdev's warnings). */
  readonly log: string;
  close(): Promise<void>;
}

/**
 * Throws, saying what to install, when a piece the emulation needs is missing (CI runs as root
 * with these installed: a missing one is a setup error to report, not a reason to skip).
 */
export function checkUsbEmulationPrerequisites(options: { irecovery?: boolean } = {}): void {
  const missing: string[] = [];
  if (!existsSync(WRAPPER)) missing.push(`${WRAPPER} (package umockdev)`);
  const gi = spawnSync(
    PYTHON,
    ['-c', "import gi; gi.require_version('UMockdev', '1.0'); from gi.repository import UMockdev"],
    { encoding: 'utf8' },
  );
  if (gi.status !== 0) missing.push(`${PYTHON} with gi and UMockdev 1.0 (python3-gi, gir1.2-umockdev-1.0)`);
  if (options.irecovery && spawnSync('irecovery', ['-h']).error)
    missing.push('irecovery (package irecovery)');
  if (missing.length) {
    throw new Error(`USB emulation needs ${missing.join(', ')}. Install with: ${INSTALL}`);
  }
}

export async function startUsbEmulation(
  bus: SimulatedUsbBus,
  options: { timeoutMs?: number } = {},
): Promise<UsbEmulation> {
  checkUsbEmulationPrerequisites();
  const dir = mkdtempSync(path.join(tmpdir(), 'bench-usb-emulation-'));
  const failures: Error[] = [];
  const bridge = await UsbBridge.listen({
    bus,
    socketPath: path.join(dir, 'bridge.sock'),
    onError: (error) => failures.push(error),
  });
  const harness = spawn(WRAPPER, [PYTHON, HARNESS, path.join(dir, 'bridge.sock')], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  harness.stdout?.on('data', (d: Buffer) => (log += d.toString()));
  harness.stderr?.on('data', (d: Buffer) => (log += d.toString()));
  const exited = new Promise<void>((resolve) => harness.once('exit', () => resolve()));
  let root: string;
  try {
    root = await Promise.race([
      bridge.connected(options.timeoutMs ?? 15_000),
      exited.then(() => {
        throw new Error(`the umockdev harness exited before connecting:\n${log}`);
      }),
    ]);
    await bridge.settled();
  } catch (error) {
    await stop(harness, bridge, exited, dir);
    throw error;
  }
  return {
    root,
    bridge,
    env: (base = process.env) => ({
      ...base,
      LD_PRELOAD: [PRELOAD, base.LD_PRELOAD].filter(Boolean).join(':'),
      UMOCKDEV_DIR: root,
    }),
    async settled(timeoutMs) {
      try {
        await bridge.settled(timeoutMs);
      } catch (error) {
        if (failures.length) throw new Error(`${failures[0].message}\nharness log:\n${log}`);
        throw new Error(
          `${errorMessage(error)}\nharness threads and log:\n${await dumpThreads(harness, () => log)}`,
        );
      }
    },
    get log() {
      return log;
    },
    close: () => stop(harness, bridge, exited, dir),
  };
}

/** The harness's Python stacks (faulthandler on SIGUSR1) and everything it printed. */
async function dumpThreads(harness: ChildProcess, log: () => string): Promise<string> {
  if (harness.exitCode === null && harness.signalCode === null) {
    harness.kill('SIGUSR1');
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  return log();
}

const errorMessage = (error: unknown) => (error instanceof Error ? error.message : String(error));

async function stop(harness: ChildProcess, bridge: UsbBridge, exited: Promise<void>, dir: string) {
  await bridge.close();
  const killer = setTimeout(() => harness.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(killer);
  rmSync(dir, { recursive: true, force: true });
}
