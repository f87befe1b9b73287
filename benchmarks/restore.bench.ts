// `npm run bench:restore`: 16 simulated phones restored concurrently by the restore engine
// alone (no agent, no queue, no database). Targets (issue 5, acceptance 5): < 2 % of one core
// per active restore at realistic speed, < 20 MB RSS per concurrent restore.
//
// The simulated bench runs in its own process (sim-host.ts); this process holds only the engine
// and what it needs (usbmux and TSS clients, the IPSW, a mirror of the simulated bus that maps
// usbmux LocationIDs to ports), so process.cpuUsage() here is the engine's CPU. Phones start in
// restore mode: the boot chain (DFU/recovery uploads) needs USB-level access, which only an
// in-process simulator offers, so its CPU is not included (it moves a few MB per phone).
//
// "At realistic speed": a restore at speed factor 1 lasts minutes, and a real filesystem is
// 6–8 GB. Three runs separate what the CPU time depends on:
//   A  small image, fast clock   → fixed work per restore (+ a little per byte, + time-driven)
//   B  large image, same clock   → the per-GB cost (B − A, per restore, per GB)
//   C  small image, slower clock → what scales with wall time (polls, timers): fixed(S) = a + b/S
// and the realistic restore is extrapolated from them: fixed(1) + per-GB × 7 GB, over the
// duration the simulator's timing model gives at speed 1.
import path from 'node:path';
import { parseEcid, type Ecid } from '@bench/bench-domain';
import { RemoteSimUsbBus, REALISTIC_RESTORE_TIMINGS, USB2_CONTROLLER_BPS } from '@bench/device-sim';
import { HttpTssClient, LocalFirmwareStore } from '@bench/firmware';
import { RestoreEngine } from '@bench/restore-engine';
import { UsbmuxClient } from '@bench/usb-transport';
import { MiB, record, table } from './bench-report';
import { processMemory } from './proc-stats';
import { SimHost } from './sim-process';
import { verdict } from './stats';

const ROOT = path.resolve(__dirname, '../..');
const PHONES = 16;
const CONTROLLERS = [8, 8];
const SMALL_IMAGE = 32 * MiB;
const LARGE_IMAGE = 512 * MiB;
const FAST = 20;
const SLOW = 4;
/** A real iOS filesystem image (OS dmg) is 6–8 GB; the extrapolation uses 7 GB. */
const REAL_IMAGE_BYTES = 7e9;
const GB = 1e9;

interface RunResult {
  label: string;
  speed: number;
  imageBytes: number;
  restores: number;
  failures: string[];
  wallSeconds: number;
  cpuSeconds: number;
  baselineRss: number;
  peakRss: number;
}

async function run(label: string, speed: number, imageBytes: number): Promise<RunResult> {
  const sim = await SimHost.start({
    speed,
    seed: 1,
    controllers: CONTROLLERS,
    osSize: imageBytes,
    firmwareDir: path.join(ROOT, 'var', 'bench-cache', 'sim-firmware'),
  });
  const bus = await RemoteSimUsbBus.connect(sim.ready.controlUrl);
  try {
    const engine = new RestoreEngine({
      bus,
      usbmux: UsbmuxClient.forAddress(sim.ready.usbmuxdSocketAddress),
      tss: new HttpTssClient({ url: sim.ready.tssUrl }),
      firmware: new LocalFirmwareStore([sim.ready.ipswPath]),
    });
    const ports = sim.ready.ports.slice(0, PHONES);
    const phones = [];
    for (const port of ports) phones.push({ ...(await sim.addPhone(port)), port });
    global.gc?.();
    const baselineRss = process.memoryUsage.rss();
    let peakRss = baselineRss;
    const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage.rss())), 100);
    const cpuBefore = process.cpuUsage();
    const started = performance.now();
    const outcomes = await Promise.allSettled(
      phones.map((phone) =>
        engine.restore({
          ecid: parseEcid(phone.ecid) as Ecid,
          portPath: phone.port,
          behavior: 'erase',
          firmware: { latest: true },
          discoveryTimeoutMs: 30_000,
        }),
      ),
    );
    const wallSeconds = (performance.now() - started) / 1000;
    const cpu = process.cpuUsage(cpuBefore);
    clearInterval(sampler);
    peakRss = Math.max(peakRss, processMemory(process.pid).peakRssBytes);
    const failures = outcomes
      .filter((o): o is PromiseRejectedResult => o.status === 'rejected')
      .map((o) => String((o.reason as Error)?.message ?? o.reason));
    const result: RunResult = {
      label,
      speed,
      imageBytes,
      restores: outcomes.length - failures.length,
      failures,
      wallSeconds,
      cpuSeconds: (cpu.user + cpu.system) / 1e6,
      baselineRss,
      peakRss,
    };
    process.stdout.write(
      `${label}: ${result.restores}/${PHONES} restored, ${wallSeconds.toFixed(1)} s, engine CPU ${result.cpuSeconds.toFixed(2)} s\n`,
    );
    return result;
  } finally {
    await bus.close();
    await sim.close();
  }
}

/** Device-side simulated seconds of a restore-mode restore (restore-session.ts, all DataRequests on). */
function deviceSideSeconds(): number {
  const t = REALISTIC_RESTORE_TIMINGS;
  const ms =
    t.waitForNandMs +
    t.partitionMapMs +
    t.createFilesystemMs +
    t.verifyMs +
    t.checkFilesystemsMs +
    t.mountFilesystemsMs +
    t.installKernelcacheMs +
    t.installDeviceTreeMs +
    t.flashFirmwareMs +
    t.fixupVarMs +
    t.systemKeyBagMs +
    t.unmountMs +
    t.rebootPauseMs +
    t.bootToIosMs;
  return ms / 1000;
}

async function main(): Promise<void> {
  // Warm-up: builds the synthetic IPSWs once (cached in var/bench-cache) and loads the code.
  process.stdout.write('bench:restore: three runs of 16 concurrent restores (a few minutes)\n');
  const a = await run('A small image, fast clock', FAST, SMALL_IMAGE);
  const b = await run('B large image, fast clock', FAST, LARGE_IMAGE);
  const c = await run('C small image, slow clock', SLOW, SMALL_IMAGE);
  const runs = [a, b, c];

  const perRestore = (r: RunResult) => r.cpuSeconds / PHONES;
  const perGb = (perRestore(b) - perRestore(a)) / ((LARGE_IMAGE - SMALL_IMAGE) / GB);
  const fixedAt = (r: RunResult) => perRestore(r) - perGb * (r.imageBytes / GB);
  // fixed(S) = a + b/S: extrapolate from the two clocks to S = 1.
  const slope = (fixedAt(c) - fixedAt(a)) / (1 / SLOW - 1 / FAST);
  const fixedRealistic = fixedAt(a) + slope * (1 - 1 / FAST);
  const cpuRealistic = fixedRealistic + perGb * (REAL_IMAGE_BYTES / GB);
  // The shortest realistic restore (the phone alone on its controller) gives the highest share.
  const filesystemSeconds = (REAL_IMAGE_BYTES * 8) / USB2_CONTROLLER_BPS;
  const realisticSeconds = deviceSideSeconds() + filesystemSeconds;
  const corePercent = (cpuRealistic / realisticSeconds) * 100;
  const rssPerRestore = Math.max(...runs.map((r) => (r.peakRss - r.baselineRss) / PHONES));
  const failures = runs.flatMap((r) => r.failures.map((f) => `${r.label}: ${f}`));

  const runRows = runs.map((r) => [
    r.label,
    r.speed,
    `${(r.imageBytes / MiB).toFixed(0)} MiB`,
    `${r.restores}/${PHONES}`,
    r.wallSeconds.toFixed(1),
    r.cpuSeconds.toFixed(2),
    perRestore(r).toFixed(3),
    (r.peakRss / MiB).toFixed(0),
    ((r.peakRss - r.baselineRss) / PHONES / MiB).toFixed(2),
  ]);
  const body = [
    `${PHONES} phones in restore mode on a simulated bench in its own process (${CONTROLLERS.length} USB 2.0 controllers × ${CONTROLLERS[0]} ports),`,
    'restored concurrently by `RestoreEngine` in the benchmark process: usbmux and TSS clients, the synthetic IPSW',
    '(strict verification on the phone side), a mirror of the simulated bus (`RemoteSimUsbBus`). CPU is this process',
    "only (`process.cpuUsage()`); RSS peak is the max of 100 ms samples and the kernel's VmHWM. Not included: the boot",
    'chain (DFU/recovery uploads need the in-process simulator), the agent, queues and database.',
    '',
    table(
      [
        'run',
        'speed',
        'image',
        'restored',
        'wall s',
        'engine CPU s',
        'CPU s / restore',
        'peak RSS MB',
        '(peak − baseline)/16 MB',
      ],
      runRows,
    ),
    '',
    'Derived (per restore):',
    `- per GB of filesystem: ${perGb.toFixed(3)} CPU-s (B − A over ${((LARGE_IMAGE - SMALL_IMAGE) / MiB).toFixed(0)} MiB)`,
    `- fixed work at speed ${FAST}: ${fixedAt(a).toFixed(3)} CPU-s, at speed ${SLOW}: ${fixedAt(c).toFixed(3)} CPU-s → at speed 1 (a + b/S): ${fixedRealistic.toFixed(3)} CPU-s`,
    `- a realistic restore (7 GB image): ${fixedRealistic.toFixed(3)} + ${perGb.toFixed(3)} × 7 = ${cpuRealistic.toFixed(2)} CPU-s`,
    `- its realistic duration: ${deviceSideSeconds().toFixed(0)} s device side (REALISTIC_RESTORE_TIMINGS: NAND wait … boot to iOS) + ${filesystemSeconds.toFixed(0)} s filesystem`,
    '  (7 GB at 480 Mbit/s: the phone alone on its controller, the shortest restore and so the highest share) =',
    `  ${realisticSeconds.toFixed(0)} s`,
    '',
    table(
      ['measure', 'result', 'target', ''],
      [
        [
          'CPU per active restore at realistic speed',
          `${corePercent.toFixed(2)} % of one core`,
          '< 2 %',
          verdict(corePercent < 2 && failures.length === 0),
        ],
        [
          'RSS per concurrent restore, (peak − baseline)/16 (worst run)',
          `${(rssPerRestore / MiB).toFixed(2)} MB`,
          '< 20 MB',
          verdict(rssPerRestore < 20 * MiB && failures.length === 0),
        ],
      ],
    ),
    ...(failures.length ? ['', `Failed restores: ${failures.join('; ')}`] : []),
  ].join('\n');
  process.stdout.write(`\n${body}\n`);
  record(ROOT, 'Restore engine, 16 concurrent restores (bench:restore)', 'npm run bench:restore', body);
}

void main().catch((error: unknown) => {
  process.stderr.write(`bench:restore failed: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
