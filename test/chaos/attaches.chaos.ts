// Chaos: 64 phones attached at the same moment. A simulated bench with 64 empty ports runs in
// its own process (the benchmarks' sim host: bus, usbmuxd, TSS and the control API trainers and
// tests plug phones with); `bench start` drives it (BENCH_SIM_REMOTE: usbmuxd over TCP, the bus
// mirrored from the control API's event stream). 64 POST /phones go out at once, each phone in
// restore mode on its own port: the agent sees every one, auto-starts one run each, and all 64
// end done, once.
import { fork, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { REPO_ROOT, tempDir, waitFor } from '@bench/testing';
import type { SimHostOptions, SimHostReady } from '../../benchmarks/sim-process';
import { startBench, type RunningBench } from '../e2e/bench-process.helper';
import { crashCount, exitReport, LiveSlots, outputTail, settledLedger } from './chaos-bench';
import { recordFigures } from './figures';

const PHONES = 64;
const HOST = 'chaos-attach';
/** Five USB 2.0 controllers, as a 64-port bench would have them. */
const CONTROLLERS = [14, 14, 14, 14, 8];

jest.setTimeout(8 * 60_000);

interface PlugAnswer {
  status: number;
  ecid?: string;
  port?: string | null;
  error?: string;
}

/** The simulated bench in its own process (dist/benchmarks/sim-host.js); resolves once it listens. */
function startSimHost(options: SimHostOptions): Promise<{ child: ChildProcess; ready: SimHostReady }> {
  const child = fork(path.join(REPO_ROOT, 'dist/benchmarks/sim-host.js'), [JSON.stringify(options)], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`sim-host exited with code ${code} before it was ready`)));
    child.on('message', (message: SimHostReady) => {
      if (message.type === 'ready') resolve({ child, ready: message });
    });
  });
}

describe(`${PHONES} simultaneous attaches`, () => {
  const { dir, remove } = tempDir('bench-chaos-attach-');
  let sim: ChildProcess | undefined;
  let bench: RunningBench | undefined;

  afterAll(async () => {
    await bench?.stop();
    if (sim?.exitCode === null) {
      const exited = new Promise((resolve) => sim?.once('exit', resolve));
      sim.kill('SIGTERM');
      await exited;
    }
    remove();
  });

  it('sees every phone, gives each one run, and restores all of them', async () => {
    const host = await startSimHost({
      speed: 60,
      seed: 64,
      controllers: CONTROLLERS,
      osSize: 4 * 1024 * 1024,
      firmwareDir: path.join(dir, 'sim-firmware'),
    });
    sim = host.child;
    const { controlUrl, ports } = host.ready;
    bench = await startBench([], { BENCH_SIM_REMOTE: controlUrl, BENCH_HOST_ID: HOST });
    const running = bench;
    const slots = new LiveSlots(running.state().redis.url, HOST);
    try {
      expect(ports).toHaveLength(PHONES);
      await waitFor(
        async () => ((await slots.all()).length === PHONES ? true : undefined),
        60_000,
        `the agent to report ${PHONES} empty slots`,
      );

      // All at once: no plug waits for another.
      const answers = await Promise.all(
        ports.map(async (port): Promise<PlugAnswer> => {
          const response = await fetch(`${controlUrl}/phones`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ port, stage: 'restore-ramdisk' }),
          });
          return { status: response.status, ...((await response.json()) as Omit<PlugAnswer, 'status'>) };
        }),
      );
      const plugged = answers.filter((a) => a.status === 200 && a.ecid);
      const ecids = plugged.map((a) => a.ecid as string);

      const seen = await waitFor(
        async () => {
          const phones = await slots.phones();
          return phones.length === PHONES ? phones : undefined;
        },
        120_000,
        `the agent to see all ${PHONES} phones`,
      ).catch(async () => slots.phones());
      const finished = await waitFor(
        async () => {
          const phones = await slots.phones();
          return phones.length === PHONES && phones.every((s) => s.state === 'done') ? phones : undefined;
        },
        5 * 60_000,
        `all ${PHONES} phones restored`,
      ).catch(async (error: Error) => {
        const states = (await slots.phones()).map((s) => `${s.portPath}:${s.state}/${s.stage ?? ''}`);
        throw new Error(`${error.message}\n${states.join(' ')}\n${outputTail(running)}`);
      });
      const ledger = await settledLedger(running.database().prisma, ecids, 120_000);
      const exits = exitReport(running.process.output);
      recordFigures('attaches', {
        attaches: seen.length,
        runsChecked: ledger.runs,
        runsLost: ledger.lost,
        runsDuplicated: ledger.duplicated,
        crashes: crashCount(exits),
      });

      expect(answers.filter((a) => a.status !== 200)).toEqual([]);
      expect(new Set(ecids).size).toBe(PHONES);
      expect(seen.map((s) => s.ecid).sort()).toEqual([...ecids].sort());
      expect(finished).toHaveLength(PHONES);
      expect(ledger.problems).toEqual([]);
      expect(ledger.states).toEqual({ done: PHONES });
      expect(exits.unexpected).toEqual([]);
      expect(exits.traces).toEqual([]);
    } finally {
      slots.close();
    }
  });
});
