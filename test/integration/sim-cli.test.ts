// Acceptance (simulator #1), through the `bench sim` command itself: unmodified libimobiledevice
// tools see the simulated phones; EnterRecovery moves a phone from usbmux to the USB bus in
// recovery with the same ECID, as the control API shows.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { REPO_ROOT, runBench, runProcess, tempDir, waitFor, WatchedProcess } from '@bench/testing';
import { freePortForTest } from './ports.helper';

jest.setTimeout(120_000);

interface SimSummary {
  usbmuxdSocketAddress: string;
  controlUrl: string;
  phones: { ecid: string; udid: string; productType: string; productVersion: string; port: string }[];
}

describe('bench sim with real libimobiledevice tools', () => {
  const { dir, remove } = tempDir('bench-sim-cli-');
  let sim: WatchedProcess;
  let summary: SimSummary;
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    const port = await freePortForTest();
    sim = new WatchedProcess(
      spawn(
        process.execPath,
        [
          path.join(REPO_ROOT, 'bin/bench.js'),
          'sim',
          '--phones',
          '3',
          '--usbmuxd',
          `tcp:127.0.0.1:${port}`,
          '--speed',
          '60',
          '--json',
        ],
        {
          env: { PATH: process.env.PATH, BENCH_HOME: dir },
          stdio: 'pipe',
        },
      ),
    );
    summary = JSON.parse((await sim.waitForOutput(/^\{.*\}$/m, 60_000))[0]) as SimSummary;
    env = { PATH: process.env.PATH, USBMUXD_SOCKET_ADDRESS: summary.usbmuxdSocketAddress };
  });

  afterAll(async () => {
    sim.child.kill('SIGINT');
    await sim.exited;
    remove();
  });

  const tool = (command: string, ...args: string[]) => runProcess(command, args, { env, timeoutMs: 30_000 });

  it('idevice_id -l prints the three UDIDs', async () => {
    const result = await tool('idevice_id', '-l');
    expect(result.stdout.trim().split('\n').sort()).toEqual(summary.phones.map((p) => p.udid).sort());
  });

  it('ideviceinfo prints the simulated identity', async () => {
    const phone = summary.phones[1];
    expect((await tool('ideviceinfo', '-u', phone.udid, '-k', 'ProductType')).stdout.trim()).toBe(
      phone.productType,
    );
    expect((await tool('ideviceinfo', '-u', phone.udid, '-k', 'ProductVersion')).stdout.trim()).toBe(
      phone.productVersion,
    );
    expect(BigInt((await tool('ideviceinfo', '-u', phone.udid, '-k', 'UniqueChipID')).stdout.trim())).toBe(
      BigInt(`0x${phone.ecid}`),
    );
  });

  it('after pairing, the battery domain reads the battery level', async () => {
    const phone = summary.phones[0];
    const pair = await tool('idevicepair', '-u', phone.udid, 'pair');
    expect(pair.stdout).toMatch(/SUCCESS: Paired with device/);
    const level = (
      await tool(
        'ideviceinfo',
        '-u',
        phone.udid,
        '-q',
        'com.apple.mobile.battery',
        '-k',
        'BatteryCurrentCapacity',
      )
    ).stdout.trim();
    const phones = (await (await fetch(`${summary.controlUrl}/phones`)).json()) as {
      ecid: string;
      battery: { level: number };
    }[];
    const expected = phones.find((p) => p.ecid === phone.ecid)?.battery.level;
    expect(Number(level)).toBe(expected);
  });

  it('ideviceenterrecovery moves the phone to the USB bus in recovery, same ECID', async () => {
    const phone = summary.phones[2];
    const result = await tool('ideviceenterrecovery', phone.udid);
    expect(result.code).toBe(0);
    await waitFor(
      async () => !(await tool('idevice_id', '-l')).stdout.includes(phone.udid) || undefined,
      10_000,
      'the phone to leave usbmux',
    );
    const recovered = await waitFor(
      async () => {
        const phones = (await (await fetch(`${summary.controlUrl}/phones`)).json()) as {
          ecid: string;
          mode: string;
          presence: string;
        }[];
        const seen = phones.find((p) => p.ecid === phone.ecid);
        return seen?.mode === 'recovery' && seen.presence === 'usb' ? seen : undefined;
      },
      15_000,
      'the phone to show in recovery on the USB bus',
    );
    expect(recovered.ecid).toBe(phone.ecid);
  });

  it('bench devices lists the simulated phones behind usbmuxd, with mode and ECID', async () => {
    const result = await runBench(['devices', '--json', '--usbmuxd', summary.usbmuxdSocketAddress], {
      env: { PATH: process.env.PATH, BENCH_HOME: dir },
    });
    const devices = JSON.parse(result.stdout) as { ecid: string; mode: string; productType?: string }[];
    const normal = devices
      .filter((d) => d.mode === 'normal')
      .map((d) => d.ecid)
      .sort();
    expect(normal).toEqual(expect.arrayContaining([summary.phones[0].ecid, summary.phones[1].ecid]));
    expect(devices.find((d) => d.ecid === summary.phones[1].ecid)?.productType).toBe(
      summary.phones[1].productType,
    );
  });

  it('the control API refuses bad input with a clear error and keeps running', async () => {
    const response = await fetch(`${summary.controlUrl}/phones/${summary.phones[0].ecid}/faults`, {
      method: 'POST',
      body: '{"fault":"explode"}',
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({ error: "unknown fault 'explode'" });
    expect((await fetch(`${summary.controlUrl}/phones`)).status).toBe(200);
  });
});
