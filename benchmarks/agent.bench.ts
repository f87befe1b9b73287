// `npm run bench:agent`: 64 simulated ports restoring at once at realistic speed, measured on
// the agent process. Targets (issue 7, acceptance 5): agent CPU < 50 % of one core on average,
// RSS < 400 MB, event-loop delay p99 < 50 ms, plug → first USB command p99 < 500 ms.
//
// Set-up: the simulated bench runs in its own process (sim-host.ts, speed factor 1) and the
// bench runs as `bench start` with BENCH_SIM_REMOTE pointing the agent at it, so the agent uses
// its real I/O path (usbmuxd over TCP, HTTP TSS, the local IPSW) and a mirror of the simulated
// bus for port paths; the simulator's CPU is not the agent's. The server, Redis and the
// simulator run beside it on the same two cores. Phones start in restore mode (the boot chain
// needs USB-level access, which only the in-process simulator has).
//
// Phones are plugged one per second (an operator's pace); plug → first request is what the
// simulator records per phone: the cable going in, and the first usbmux Connect that reaches the
// phone (the agent identifying it). Once all 64 are restoring, a steady window is measured:
// agent CPU from /proc/<pid>/stat, RSS from /proc/<pid>/status, event-loop delay from the
// agent's own /metrics (perf_hooks), filesystem bytes from the simulator's controllers.
import path from 'node:path';
import { USB2_CONTROLLER_BPS } from '@bench/device-sim';
import { BenchProcess } from './bench-process';
import { MiB, record, table } from './bench-report';
import { processCpuSeconds, processMemory } from './proc-stats';
import { SimHost } from './sim-process';
import { mean, percentile, verdict } from './stats';

const ROOT = path.resolve(__dirname, '../..');
const PORTS = 64;
/** What `bench start --simulate 64` builds (topologyFor): 14-port hub pairs per USB 2.0 controller. */
const CONTROLLERS = [14, 14, 14, 14, 8];
const PLUG_EVERY_MS = 1_000;
/** Large enough that uploads run through the whole window, as 6–8 GB images do on a real bench. */
const IMAGE_BYTES = 1024 * MiB;
const SETTLE_MS = 10_000;
const WINDOW_MS = 150_000;
const SAMPLE_EVERY_MS = 1_000;

interface SlotView {
  portPath: string;
  state: string;
  ecid?: string;
  stage?: string;
}

interface EventLoopWindow {
  samples: number;
  meanMs: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function getJson<T>(url: string, method = 'GET'): Promise<T> {
  const response = await fetch(url, { method });
  if (!response.ok) throw new Error(`${method} ${url}: HTTP ${response.status}`);
  return (await response.json()) as T;
}

async function main(): Promise<void> {
  process.stdout.write(
    `bench:agent: ${PORTS} ports at speed 1, about ${Math.round((PORTS * PLUG_EVERY_MS + SETTLE_MS + WINDOW_MS) / 60_000) + 2} minutes\n`,
  );
  const sim = await SimHost.start({
    speed: 1,
    seed: 1,
    controllers: CONTROLLERS,
    osSize: IMAGE_BYTES,
    firmwareDir: path.join(ROOT, 'var', 'bench-cache', 'sim-firmware'),
  });
  let bench: BenchProcess | undefined;
  try {
    bench = await BenchProcess.start({ BENCH_SIM_REMOTE: sim.ready.controlUrl });
    const agentPid = bench.agent.pid;
    const slots = () => getJson<SlotView[]>(bench!.agentUrl('/slots'));

    // Ramp-up: one phone a second, the agent busier with every one.
    const ports = sim.ready.ports.slice(0, PORTS);
    const rampStarted = Date.now();
    for (const [index, port] of ports.entries()) {
      await sim.addPhone(port);
      const next = rampStarted + (index + 1) * PLUG_EVERY_MS;
      await sleep(Math.max(0, next - Date.now()));
    }
    const deadline = Date.now() + 120_000;
    for (;;) {
      const restoring = (await slots()).filter((s) => s.state === 'restoring').length;
      if (restoring === PORTS) break;
      if (Date.now() > deadline) throw new Error(`only ${restoring} of ${PORTS} ports restoring after 2 min`);
      await sleep(1_000);
    }
    await sleep(SETTLE_MS);

    // The steady window.
    await getJson(bench.agentUrl('/metrics/event-loop'), 'POST');
    const bytesBefore = sum((await sim.controllers()).map((c) => c.bytes));
    const cpuBefore = processCpuSeconds(agentPid);
    const windowStarted = performance.now();
    const rss: number[] = [];
    const stages = new Map<string, number>();
    let minRestoring = PORTS;
    while (performance.now() - windowStarted < WINDOW_MS) {
      rss.push(processMemory(agentPid).rssBytes);
      const now = await slots();
      minRestoring = Math.min(minRestoring, now.filter((s) => s.state === 'restoring').length);
      for (const slot of now)
        stages.set(slot.stage ?? slot.state, (stages.get(slot.stage ?? slot.state) ?? 0) + 1);
      await sleep(SAMPLE_EVERY_MS);
    }
    const windowSeconds = (performance.now() - windowStarted) / 1000;
    const cpuSeconds = processCpuSeconds(agentPid) - cpuBefore;
    const loop = await getJson<EventLoopWindow>(bench.agentUrl('/metrics/event-loop'), 'POST');
    const bytesMoved = sum((await sim.controllers()).map((c) => c.bytes)) - bytesBefore;
    const peakRss = processMemory(agentPid).peakRssBytes;
    const contacts = await sim.contacts();
    const latencies = contacts
      .filter((c) => c.firstContactAt !== undefined)
      .map((c) => (c.firstContactAt as number) - c.pluggedAt);

    const corePercent = (cpuSeconds / windowSeconds) * 100;
    const p99Latency = percentile(latencies, 99);
    const throughput = bytesMoved / windowSeconds;
    const modelled = (CONTROLLERS.length * USB2_CONTROLLER_BPS) / 8;
    const sampleCount = Math.max(1, Math.round(windowSeconds / (SAMPLE_EVERY_MS / 1000)));
    const stageMix = [...stages]
      .sort((a, b) => b[1] - a[1])
      .map(([stage, count]) => `${stage} ${(count / sampleCount).toFixed(1)}`)
      .join(', ');
    const body = [
      `${PORTS} phones on a simulated bench in its own process (${CONTROLLERS.length} USB 2.0 controllers: ${CONTROLLERS.join(' + ')} ports; speed factor 1;`,
      `${IMAGE_BYTES / MiB} MiB filesystem image), restored by \`bench start\` with BENCH_SIM_REMOTE: the agent uses usbmuxd over TCP, HTTP`,
      'TSS and the local IPSW as on real hardware, admission control at its default (2 uploads per controller). Phones start in',
      `restore mode, plugged one per ${PLUG_EVERY_MS / 1000} s. Measured: the agent process only (/proc/<pid>/stat, /proc/<pid>/status), over a`,
      `${(windowSeconds / 60).toFixed(1)}-minute window starting ${SETTLE_MS / 1000} s after all ${PORTS} were restoring; the server, Redis and the simulator share`,
      'the two cores. Event-loop delay comes from the agent itself (`monitorEventLoopDelay`, 10 ms resolution, on `/metrics`).',
      `Plug → first USB command: the simulator's time from the cable going in to the first usbmux Connect reaching the phone (${latencies.length} plugs).`,
      '',
      `In the window: at least ${minRestoring} of ${PORTS} restoring; mean phones per stage ${stageMix}. Filesystem throughput over all`,
      `controllers ${(throughput / 1e6).toFixed(1)} MB/s (the bandwidth model's ceiling: ${(modelled / 1e6).toFixed(0)} MB/s).`,
      '',
      table(
        ['measure', 'result', 'target', ''],
        [
          [
            'agent CPU, mean over the window',
            `${corePercent.toFixed(1)} % of one core (${cpuSeconds.toFixed(1)} CPU-s in ${windowSeconds.toFixed(0)} s)`,
            '< 50 %',
            verdict(corePercent < 50),
          ],
          [
            'agent RSS',
            `${(Math.max(...rss) / MiB).toFixed(0)} MB in the window (mean ${(mean(rss) / MiB).toFixed(0)} MB), peak ${(peakRss / MiB).toFixed(0)} MB since start`,
            '< 400 MB',
            verdict(peakRss < 400 * MiB),
          ],
          [
            'event-loop delay p99',
            `${loop.p99Ms.toFixed(1)} ms (p50 ${loop.p50Ms.toFixed(1)}, max ${loop.maxMs.toFixed(0)} ms, ${loop.samples} samples)`,
            '< 50 ms',
            verdict(loop.p99Ms < 50),
          ],
          [
            'plug → first USB command p99',
            `${p99Latency.toFixed(0)} ms (mean ${mean(latencies).toFixed(0)}, max ${Math.max(...latencies).toFixed(0)} ms)`,
            '< 500 ms',
            verdict(latencies.length === PORTS && p99Latency < 500),
          ],
        ],
      ),
    ].join('\n');
    process.stdout.write(`\n${body}\n`);
    record(ROOT, 'Agent, 64 ports restoring (bench:agent)', 'npm run bench:agent', body);
  } finally {
    await bench?.stop();
    await sim.close();
  }
}

function sum(values: number[]): number {
  return values.reduce((total, x) => total + x, 0);
}

void main().catch((error: unknown) => {
  process.stderr.write(`bench:agent failed: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
