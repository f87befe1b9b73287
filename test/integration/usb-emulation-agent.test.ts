// The bench agent with the real USB transport (LibusbBus over node `usb`), run inside the
// umockdev testbed: it must see emulated DFU and recovery phones on their port paths with their
// ECIDs, and see a pulled cable as an empty port, exactly as on a bench PC's USB bus. (Runs are
// created by the server, which is not part of this test: this is the agent's view of the bus.)
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { SimBench, type SimBenchEndpoints } from '@bench/device-sim';
import { REPO_ROOT, TEST_REDIS_URL, tempDir, waitFor } from '@bench/testing';
import { startUsbEmulation, type UsbEmulation } from '../usb-emulation/usb-emulation';
import { freePortForTest } from './ports.helper';

jest.setTimeout(120_000);

interface AgentSlot {
  portPath: string;
  state: string;
  ecid?: string;
  mode?: string;
}

describe('the bench agent with the real USB transport under umockdev', () => {
  const { dir, remove } = tempDir('bench-usb-emulation-agent-');
  let bench: SimBench;
  let endpoints: SimBenchEndpoints;
  let emulation: UsbEmulation;
  let agent: ChildProcess | undefined;
  let output = '';
  let agentUrl = '';

  beforeAll(async () => {
    bench = new SimBench({ speed: 60, firmwareDir: path.join(dir, 'firmware'), osSize: 2 * 1024 * 1024 });
    endpoints = await bench.start();
    emulation = await startUsbEmulation(bench.bus);
  });

  afterAll(async () => {
    if (agent && agent.exitCode === null) {
      const exited = new Promise((resolve) => agent?.once('exit', resolve));
      agent.kill('SIGTERM');
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 15_000))]);
      if (agent.exitCode === null) agent.kill('SIGKILL');
    }
    await emulation?.close();
    await bench?.close();
    remove();
  });

  const slots = async (): Promise<AgentSlot[]> => {
    const response = await fetch(`${agentUrl}/slots`);
    return (await response.json()) as AgentSlot[];
  };

  it('sees emulated DFU and recovery phones on their ports, and a pulled cable', async () => {
    const dfu = bench.addPhone({ productType: 'iPhone10,1', stage: 'secure-rom', port: '1-1.3' });
    const recovery = bench.addPhone({ productType: 'iPhone10,1', stage: 'iboot', port: '1-1.5' });
    await emulation.settled();

    const port = await freePortForTest();
    agentUrl = `http://127.0.0.1:${port}`;
    agent = spawn(process.execPath, [path.join(REPO_ROOT, 'dist/apps/bench-agent/src/main.js')], {
      cwd: dir,
      env: emulation.env({
        PATH: process.env.PATH,
        BENCH_HOME: dir,
        BENCH_HOST_ID: `emulated-${process.pid}`,
        BENCH_AGENT_PORT: String(port),
        REDIS_URL: TEST_REDIS_URL,
        USBMUXD_SOCKET_ADDRESS: endpoints.usbmuxd.socketAddress,
        BENCH_TSS_URL: endpoints.tssUrl,
        LOG_FORMAT: 'json',
      }),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    agent.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    agent.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));

    const seen = await waitFor(
      async () => {
        if (agent?.exitCode !== null) throw new Error(`the agent exited (${agent?.exitCode}):\n${output}`);
        const now = await slots().catch(() => []);
        const at = (portPath: string) => now.find((slot) => slot.portPath === portPath);
        return at('1-1.3')?.ecid && at('1-1.5')?.ecid ? now : undefined;
      },
      60_000,
      'the agent to see both emulated phones',
    );
    expect(seen.find((slot) => slot.portPath === '1-1.3')).toMatchObject({
      ecid: dfu.identity.ecidHex,
      mode: 'dfu',
    });
    expect(seen.find((slot) => slot.portPath === '1-1.5')).toMatchObject({
      ecid: recovery.identity.ecidHex,
      mode: 'recovery',
    });

    // The cable comes out: libusb reports the detach and the slot empties.
    bench.unplug(recovery);
    await emulation.settled();
    await waitFor(
      async () => {
        const slot = (await slots()).find((s) => s.portPath === '1-1.5');
        return slot && !slot.ecid ? slot : undefined;
      },
      30_000,
      'the agent to see the recovery phone unplugged',
    );
  });
});
