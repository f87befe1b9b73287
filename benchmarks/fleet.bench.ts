// `npm run bench:fleet`: a night on a simulated shop floor. Four bench agents (hosts fleet-1 …
// fleet-4), each with 64 simulated ports, on one Redis and one server, restore phones for 8 hours
// of simulated time, once with bench's own policy and once with a baseline that behaves like a
// shell loop around idevicerestore. Targets (issue 9): at least 20 % more phones restored per
// night than the baseline, and no phone wrongly marked bricked.
//
// The night: the evening shift fills every port with a phone in iOS; whenever a slot shows an end
// (done, bricked, attention, stuck, quarantined) the operator takes the phone away and, after a
// handling delay, puts the next phone on that port (a quarantined port also gets its cable
// swapped and its quarantine cleared). Phones come from the simulator with the `shop-floor-broken`
// profile: the `shop-floor` faults plus one phone in a hundred that is really broken (a hardware
// status at every attempt). Each host's simulator has its own fixed seed, so the n-th phone on a
// host is the same phone with the same faults under both policies.
//
// Outcomes come from the record (the server's database): runs and their ends, and the slot
// states the agents reported (`bricked`). The truth about each phone comes from the simulator
// (GET /simulation on each agent): a phone is really broken only when its drawn faults include
// the every-attempt hardware status.
//
// A 1:1000 scale model of the USB side: the filesystem image is 7 MiB instead of ~7 GB and each
// USB 2.0 controller carries 0.48 Mbit/s instead of 480, so every upload takes as long in
// simulated time as the real one; the stage budgets are untouched.
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { EVERY_ATTEMPT } from '@bench/device-sim';
import { AgentCommandSender, createRedis } from '@bench/jobs';
import { childEnv } from '@bench/testing';
import { BenchProcess } from './bench-process';
import { MiB, record, table } from './bench-report';
import { processCpuSeconds, processMemory } from './proc-stats';
import { verdict } from './stats';

const ROOT = path.resolve(__dirname, '../..');
const AGENT_ENTRY = path.join(ROOT, 'dist/apps/bench-agent/src/main.js');
const HOSTS = 4;
const PORTS_PER_HOST = 64;
const SCALE = 1000;
const IMAGE_BYTES = 7 * MiB;
const CONTROLLER_MBPS = 480 / SCALE;
const FAULT_PROFILE = 'shop-floor-broken';
const SEED_BASE = 9_000;
/** Simulated time between a phone's end and the next phone on the port. */
const HANDLING_SIM_MS = 2 * 60_000;
const POLL_MS = 1_000;
/** The baseline's tries per phone (`for i in 1 2 3; do idevicerestore … && break; sleep 1; done`). */
const BASELINE_TRIES = 3;
const BASELINE_SLEEP_MS = 1_000;
const FINAL_SLOT_STATES = new Set(['done', 'bricked', 'attention', 'stuck', 'quarantined']);
const FAILURE_CLASSES = [
  'transient-usb',
  'power',
  'signing-refused',
  'firmware-invalid',
  'stuck',
  'device-hardware',
  'host-setup',
  'unknown',
];

interface Options {
  hours: number;
  speed: number;
  policies: PolicyName[];
}

/**
 * `baseline-admission`: the baseline's retry rules with bench's admission control, to show how much
 * of the difference is the failure policy alone (`--with-admission-baseline`).
 */
type PolicyName = 'bench' | 'baseline' | 'baseline-admission';

const LABELS: Record<PolicyName, string> = {
  bench: 'bench (default policy)',
  baseline: `baseline (shell loop, ${BASELINE_TRIES} tries)`,
  'baseline-admission': 'baseline + admission control',
};

interface SlotView {
  portPath: string;
  state: string;
  ecid?: string;
}

interface SimulationView {
  controlUrl?: string;
  faults: { ecid?: string; fault: { kind: string; code?: number }; times: number }[];
}

interface EventLoopWindow {
  samples: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

interface Host {
  hostId: string;
  agentPid: number;
  agentUrl: string;
  controlUrl: string;
  nightStart: number;
  stop(): Promise<void>;
}

interface RunRow {
  id: string;
  hostId: string;
  deviceEcid: string | null;
  state: string;
  attemptCount: number;
  failureClass: string | null;
  createdAt: string | number;
  finishedAt: string | number | null;
}

interface NightOutcome {
  policy: PolicyName;
  label: string;
  loaded: number;
  restored: number;
  needsHuman: number;
  stillRunning: number;
  markedBricked: number;
  wronglyBricked: number;
  correctlyBricked: number;
  brokenLoaded: number;
  attempts: number;
  endsByState: Map<string, number>;
  /** `host restored/loaded`, per host. */
  perHost: string[];
  wallSeconds: number;
  machineCpuPercent: number;
  agentCpuPercent: number[];
  serverCpuPercent: number;
  agentPeakRssMiB: number;
  loops: EventLoopWindow[];
  swaps: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function http<T>(url: string, method = 'GET', body?: unknown): Promise<T> {
  const response = await fetch(url, {
    method,
    headers: body === undefined ? undefined : { 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!response.ok) throw new Error(`${method} ${url}: HTTP ${response.status} ${await response.text()}`);
  return (await response.json()) as T;
}

/** The baseline as a retry policy in bench.config.yaml: every class tried 3 times, then "dead". */
function baselineConfig(): string {
  const rule = `{ action: stop-bricked, maxAttempts: ${BASELINE_TRIES}, backoffMs: ${BASELINE_SLEEP_MS} }`;
  return [
    '# bench:fleet baseline: a shell loop around idevicerestore. Any failure is tried again after a',
    '# short sleep, three tries in all, and a phone that fails them all is called dead (bricked).',
    '# No waiting for charge, no escalation ladder, no quarantine (100 phones: never in a night).',
    'policies:',
    '  default:',
    '    quarantineAfterPhones: 100',
    '    rules:',
    ...FAILURE_CLASSES.map((cls) => `      ${cls}: ${rule}`),
    '',
  ].join('\n');
}

function simulationEnv(options: Options, index: number, policy: PolicyName): Record<string, string> {
  return {
    BENCH_HOST_ID: `fleet-${index + 1}`,
    BENCH_SIMULATE: String(PORTS_PER_HOST),
    BENCH_SIM_SPEED: String(options.speed),
    BENCH_SIM_FAULTS: FAULT_PROFILE,
    BENCH_SIM_SEED: String(SEED_BASE + index),
    BENCH_SIM_OS_SIZE: String(IMAGE_BYTES),
    BENCH_SIM_START_MODE: 'normal',
    BENCH_SIM_CONTROLLER_MBPS: String(CONTROLLER_MBPS),
    // The baseline has no admission control: every upload starts at once (64 ≥ ports per controller).
    BENCH_UPLOADS_PER_CONTROLLER: policy === 'baseline' ? '64' : '2',
    LOG_LEVEL: 'warn',
    LOG_FORMAT: 'json',
  };
}

/** A further agent on the same Redis, started the way `bench start` forks one. */
async function startAgent(
  env: Record<string, string>,
): Promise<{ pid: number; port: number; stop(): Promise<void> }> {
  const home = mkdtempSync(path.join(tmpdir(), 'bench-fleet-agent-'));
  const child: ChildProcess = fork(AGENT_ENTRY, [], {
    cwd: home,
    env: childEnv({ BENCH_HOME: home, BENCH_AGENT_PORT: '0', ...env }),
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  let output = '';
  const keep = (chunk: Buffer) => (output = (output + chunk.toString('utf8')).slice(-10_000));
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const ready = await new Promise<{ port: number; pid: number }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`agent not ready in 300 s:\n${output}`)), 300_000);
    child.on('message', (message: { type?: string; port: number; pid: number }) => {
      if (message?.type !== 'ready') return;
      clearTimeout(timer);
      resolve(message);
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`agent exited (${code}) before it was ready:\n${output}`));
    });
  });
  return {
    ...ready,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        await Promise.race([exited, sleep(15_000)]);
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      }
      rmSync(home, { recursive: true, force: true });
    },
  };
}

async function hostFrom(
  hostId: string,
  agentPid: number,
  agentPort: number,
  stop: () => Promise<void>,
): Promise<Host> {
  const agentUrl = `http://127.0.0.1:${agentPort}`;
  const simulation = await http<SimulationView>(`${agentUrl}/simulation`);
  if (!simulation.controlUrl) throw new Error(`${hostId}: the agent's simulator has no control API`);
  await http(`${agentUrl}/metrics/event-loop`, 'POST');
  return { hostId, agentPid, agentUrl, controlUrl: simulation.controlUrl, nightStart: Date.now(), stop };
}

/**
 * The operator on one host: a phone whose slot shows an end is taken away, and after the handling
 * delay the next phone goes on the port (a quarantined port gets a new cable first).
 */
async function operate(
  host: Host,
  nightEnd: number,
  handlingMs: number,
  commands: AgentCommandSender,
): Promise<number> {
  const seen = new Set<string>();
  const pending: Promise<void>[] = [];
  let swaps = 0;
  const swap = async (slot: SlotView) => {
    await sleep(handlingMs);
    if (Date.now() >= nightEnd) return;
    if (slot.state === 'quarantined') {
      await commands.send(host.hostId, {
        action: 'clear-quarantine',
        portPath: slot.portPath,
        cableReplaced: true,
        by: 'fleet-operator',
      });
    }
    await http(`${host.controlUrl}/phones/${slot.ecid}/unplug`, 'POST');
    await http(`${host.controlUrl}/phones`, 'POST', { port: slot.portPath, stage: 'ios' });
    swaps++;
  };
  while (Date.now() < nightEnd) {
    const slots = await http<SlotView[]>(`${host.agentUrl}/slots`);
    for (const slot of slots) {
      if (!slot.ecid || !FINAL_SLOT_STATES.has(slot.state)) continue;
      const key = `${slot.portPath}/${slot.ecid}`;
      if (seen.has(key)) continue;
      seen.add(key);
      pending.push(
        swap(slot).catch((error: unknown) => {
          process.stderr.write(
            `  ${host.hostId} ${slot.portPath}: swap failed: ${(error as Error).message}\n`,
          );
        }),
      );
    }
    await sleep(POLL_MS);
  }
  await Promise.all(pending);
  return swaps;
}

function machineCpu(): { busy: number; total: number } {
  const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const total = fields.reduce((sum, x) => sum + x, 0);
  const idle = fields[3] + (fields[4] ?? 0);
  return { busy: total - idle, total };
}

function toMs(value: string | number | null): number {
  if (value === null) return NaN;
  return typeof value === 'number' ? value : new Date(value).getTime();
}

function normalEcid(ecid: string): string {
  return ecid.toUpperCase().replace(/^0X/, '').padStart(16, '0');
}

interface HostNight {
  swaps: number;
  cpuPercent: number;
  peakRssBytes: number;
  loop: EventLoopWindow;
}

/** One host's night: the operator at work from the agent's start until dawn, and what it cost. */
async function hostNight(
  host: Host,
  nightMs: number,
  handlingMs: number,
  commands: AgentCommandSender,
): Promise<HostNight> {
  const cpuBefore = processCpuSeconds(host.agentPid);
  const swaps = await operate(host, host.nightStart + nightMs, handlingMs, commands);
  const elapsed = (Date.now() - host.nightStart) / 1000;
  return {
    swaps,
    cpuPercent: ((processCpuSeconds(host.agentPid) - cpuBefore) / elapsed) * 100,
    peakRssBytes: processMemory(host.agentPid).peakRssBytes,
    loop: await http<EventLoopWindow>(`${host.agentUrl}/metrics/event-loop`, 'POST'),
  };
}

async function night(options: Options, policy: PolicyName): Promise<NightOutcome> {
  const label = LABELS[policy];
  const configDir = mkdtempSync(path.join(tmpdir(), 'bench-fleet-config-'));
  const configFile = path.join(configDir, 'bench.config.yaml');
  writeFileSync(configFile, policy === 'bench' ? '# bench:fleet: the default policy\n' : baselineConfig());
  const nightMs = (options.hours * 3_600_000) / options.speed;
  const handlingMs = HANDLING_SIM_MS / options.speed;
  process.stdout.write(
    `\n${label}: ${HOSTS} hosts × ${PORTS_PER_HOST} ports, ${options.hours} h at ${options.speed}× (${(nightMs / 60_000).toFixed(1)} min)\n`,
  );
  const wallStarted = Date.now();
  const bench = await BenchProcess.start({ ...simulationEnv(options, 0, policy), BENCH_CONFIG: configFile });
  const hosts: Host[] = [];
  const redis = createRedis(bench.state().redis.url, 'probe');
  try {
    await redis.connect();
    const commands = new AgentCommandSender(redis);
    const cpuBefore = machineCpu();
    const serverPid = bench.state().server?.pid as number;
    const serverCpuBefore = processCpuSeconds(serverPid);
    const started = Date.now();
    const progress = setInterval(() => {
      const simHours = ((Date.now() - started) * options.speed) / 3_600_000;
      process.stdout.write(`  ${simHours.toFixed(1)} h of ${options.hours} (${hosts.length} hosts up)\n`);
    }, 60_000);
    let nights: HostNight[];
    try {
      // Each host's night starts as soon as its agent is ready: fleet-1 with \`bench start\`, the
      // other three forked one after another beside it on the same Redis (starting them at once
      // only makes each start slower on two cores).
      const running: Promise<HostNight>[] = [];
      for (let index = 0; index < HOSTS; index++) {
        const hostId = `fleet-${index + 1}`;
        let host: Host;
        if (index === 0) {
          host = await hostFrom(hostId, bench.agent.pid, bench.agent.port, async () => undefined);
        } else {
          const agent = await startAgent({
            ...simulationEnv(options, index, policy),
            REDIS_URL: bench.state().redis.url,
            BENCH_CONFIG: configFile,
          });
          host = await hostFrom(hostId, agent.pid, agent.port, agent.stop);
        }
        hosts.push(host);
        process.stdout.write(`  ${hostId} up after ${((Date.now() - wallStarted) / 1000).toFixed(0)} s\n`);
        running.push(hostNight(host, nightMs, handlingMs, commands));
      }
      nights = await Promise.all(running);
    } finally {
      clearInterval(progress);
    }
    const elapsed = (Date.now() - started) / 1000;
    const cpuAfter = machineCpu();
    const serverCpu = ((processCpuSeconds(serverPid) - serverCpuBefore) / elapsed) * 100;
    // The truth about each phone, from the simulators.
    const broken = new Set<string>();
    for (const host of hosts) {
      const simulation = await http<SimulationView>(`${host.agentUrl}/simulation`);
      for (const rule of simulation.faults)
        if (rule.ecid && rule.fault.kind === 'status' && rule.times >= EVERY_ATTEMPT)
          broken.add(normalEcid(rule.ecid));
    }
    await sleep(5_000); // the recorder catches up with the last events of the night
    hosts.sort((a, b) => a.hostId.localeCompare(b.hostId));
    const outcome = tally(bench.databaseFile, hosts, nightMs, broken);
    return {
      policy,
      label,
      ...outcome,
      wallSeconds: (Date.now() - wallStarted) / 1000,
      machineCpuPercent: ((cpuAfter.busy - cpuBefore.busy) / (cpuAfter.total - cpuBefore.total)) * 100,
      agentCpuPercent: nights.map((n) => n.cpuPercent),
      serverCpuPercent: serverCpu,
      agentPeakRssMiB: Math.max(...nights.map((n) => n.peakRssBytes)) / MiB,
      loops: nights.map((n) => n.loop),
      swaps: nights.reduce((sum, n) => sum + n.swaps, 0),
    };
  } finally {
    redis.disconnect();
    await Promise.all(hosts.map((host) => host.stop()));
    await bench.stop();
    rmSync(configDir, { recursive: true, force: true });
  }
}

type Tally = Pick<
  NightOutcome,
  | 'loaded'
  | 'restored'
  | 'needsHuman'
  | 'stillRunning'
  | 'markedBricked'
  | 'wronglyBricked'
  | 'correctlyBricked'
  | 'brokenLoaded'
  | 'attempts'
  | 'endsByState'
  | 'perHost'
>;

/** What the record says about the night, each host's night counted from its agent's start. */
function tally(databaseFile: string, hosts: Host[], nightMs: number, broken: Set<string>): Tally {
  const db = new Database(databaseFile, { readonly: true, fileMustExist: true });
  try {
    const nightEnd = new Map(hosts.map((h) => [h.hostId, h.nightStart + nightMs]));
    const runs = (
      db
        .prepare(
          'SELECT id, hostId, deviceEcid, state, attemptCount, failureClass, createdAt, finishedAt FROM "Run"',
        )
        .all() as RunRow[]
    ).filter((run) => toMs(run.createdAt) < (nightEnd.get(run.hostId) ?? 0));
    const endedInNight = (run: RunRow) =>
      run.finishedAt !== null && toMs(run.finishedAt) <= (nightEnd.get(run.hostId) ?? 0);
    const bricked = new Set(
      (
        db
          .prepare(
            `SELECT runId, at, hostId FROM "Event" WHERE kind = 'slot.state' AND payload LIKE '%"state":"bricked"%'`,
          )
          .all() as { runId: string | null; at: string | number; hostId: string }[]
      )
        .filter((e) => e.runId && toMs(e.at) <= (nightEnd.get(e.hostId) ?? 0))
        .map((e) => e.runId as string),
    );
    const ended = runs.filter(endedInNight);
    const markedBricked = ended.filter((run) => bricked.has(run.id));
    const isBroken = (run: RunRow) => run.deviceEcid !== null && broken.has(normalEcid(run.deviceEcid));
    const perHost = hosts.map((h) => {
      const mine = runs.filter((run) => run.hostId === h.hostId);
      return `${h.hostId} ${mine.filter((run) => run.state === 'done' && endedInNight(run)).length}/${mine.length}`;
    });
    const endsByState = new Map<string, number>();
    for (const run of ended.filter((r) => r.state !== 'done')) {
      const key = bricked.has(run.id) ? 'bricked' : `${run.state}: ${run.failureClass ?? '?'}`;
      endsByState.set(key, (endsByState.get(key) ?? 0) + 1);
    }
    return {
      loaded: runs.length,
      restored: ended.filter((run) => run.state === 'done').length,
      needsHuman: ended.filter((run) => run.state === 'failed').length,
      stillRunning: runs.length - ended.length,
      markedBricked: markedBricked.length,
      wronglyBricked: markedBricked.filter((run) => !isBroken(run)).length,
      correctlyBricked: markedBricked.filter(isBroken).length,
      brokenLoaded: runs.filter(isBroken).length,
      attempts: runs.reduce((sum, run) => sum + run.attemptCount, 0),
      endsByState,
      perHost,
    };
  } finally {
    db.close();
  }
}

function parseOptions(argv: string[]): Options {
  const value = (name: string) => {
    const index = argv.indexOf(name);
    return index >= 0 ? argv[index + 1] : undefined;
  };
  const hours = Number(value('--hours') ?? 8);
  const speed = Number(value('--speed') ?? 40);
  const only = value('--only');
  if (!(hours > 0) || !(speed > 0)) throw new Error('--hours and --speed must be positive numbers');
  if (only !== undefined && !(only in LABELS))
    throw new Error(`--only expects one of ${Object.keys(LABELS).join(', ')}`);
  const policies: PolicyName[] = only
    ? [only as PolicyName]
    : argv.includes('--with-admission-baseline')
      ? ['bench', 'baseline', 'baseline-admission']
      : ['bench', 'baseline'];
  return { hours, speed, policies };
}

function describe(outcome: NightOutcome, hours: number): (string | number)[] {
  const ended = outcome.restored + outcome.needsHuman;
  return [
    outcome.label,
    outcome.loaded,
    outcome.restored,
    (outcome.restored / hours).toFixed(1),
    ended > 0 ? `${((outcome.restored / ended) * 100).toFixed(1)} %` : '—',
    outcome.needsHuman,
    outcome.wronglyBricked,
    `${outcome.correctlyBricked} of ${outcome.brokenLoaded}`,
    outcome.stillRunning,
    outcome.attempts,
  ];
}

function describeMachine(outcome: NightOutcome): (string | number)[] {
  return [
    outcome.label,
    `${(outcome.wallSeconds / 60).toFixed(1)} min`,
    `${outcome.machineCpuPercent.toFixed(0)} %`,
    outcome.agentCpuPercent.map((x) => x.toFixed(0)).join(' / ') + ' %',
    `${outcome.serverCpuPercent.toFixed(0)} %`,
    `${outcome.agentPeakRssMiB.toFixed(0)} MiB`,
    `${Math.max(...outcome.loops.map((l) => l.p99Ms)).toFixed(0)} ms (p50 ${Math.max(...outcome.loops.map((l) => l.p50Ms)).toFixed(0)}, max ${Math.max(...outcome.loops.map((l) => l.maxMs)).toFixed(0)})`,
  ];
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const outcomes: NightOutcome[] = [];
  for (const policy of options.policies) {
    const outcome = await night(options, policy);
    outcomes.push(outcome);
    process.stdout.write(
      `  ${outcome.restored} restored, ${outcome.needsHuman} need a human, ${outcome.wronglyBricked} wrongly bricked, ${outcome.correctlyBricked}/${outcome.brokenLoaded} broken phones bricked (${(outcome.wallSeconds / 60).toFixed(1)} min)\n`,
    );
  }
  const ours = outcomes.find((o) => o.policy === 'bench');
  const baseline = outcomes.find((o) => o.policy === 'baseline');
  const gain = ours && baseline && baseline.restored > 0 ? ours.restored / baseline.restored - 1 : NaN;
  const moreRestored =
    ours !== undefined && baseline !== undefined && ours.restored >= 1.2 * baseline.restored;
  const noneWronglyBricked = ours !== undefined && ours.wronglyBricked === 0;
  const body = [
    `${HOSTS} bench agents (hosts fleet-1…fleet-${HOSTS}) × ${PORTS_PER_HOST} simulated ports, one Redis, one server (SQLite), an ${options.hours}-hour night`,
    `of simulated time at ${options.speed}× (${((options.hours * 60) / options.speed).toFixed(0)} min of wall time per policy), fault profile \`${FAULT_PROFILE}\` (\`shop-floor\` plus 1 % of`,
    'phones really broken: a hardware status at every attempt). The evening shift fills every port with a phone in iOS;',
    `whenever a slot shows an end (done, bricked, attention, stuck, quarantined) the operator takes the phone away and puts`,
    `the next one on the port ${HANDLING_SIM_MS / 60_000} simulated minutes later (clearing a quarantine as if the cable were swapped). Each host's`,
    `simulator has a fixed seed (${SEED_BASE}+host), so both policies get the same phones with the same faults, in the same order per host.`,
    `1:${SCALE} scale model of the USB side: a ${IMAGE_BYTES / MiB} MiB filesystem image on ${CONTROLLER_MBPS} Mbit/s controllers (14 ports each, the stock`,
    'layout) moves as long in simulated time as ~7 GB on USB 2.0; the stage budgets are the defaults.',
    '',
    `Baseline: a shell loop around idevicerestore, run by the same agent and simulator: every failure class is`,
    `\`stop-bricked\` with \`maxAttempts: ${BASELINE_TRIES}\` (tried again after a ${BASELINE_SLEEP_MS / 1000} s sleep, doubling, then called dead = bricked), no`,
    'waiting for charge, no escalation ladder, no quarantine (`quarantineAfterPhones: 100`), no admission control',
    '(BENCH_UPLOADS_PER_CONTROLLER=64). It keeps two things a shell loop lacks, both in its favour: the agent waits (up to its',
    'missing-phone limit) for a phone that is away instead of burning a try, and tries are counted per failure class.',
    "Both policies run under the engine's stage budgets (idevicerestore's waits, restore-protocol §10), including bench's",
    'own deadline for the whole filesystem upload (20 min of device time, 5 MB/s beyond): idevicerestore has none, so with',
    "every upload at once a real shell loop's uploads would drag rather than fail, and this bandwidth model (fair shares, no",
    'loss from contention) would then carry about as many. The `baseline + admission control` row, when run',
    '(`--with-admission-baseline`), shows what the failure policy alone is worth.',
    '',
    'From the record: loaded = runs created in the night; restored = runs `done` by dawn; needing a human = runs ended',
    '`failed` (bricked, attention, stuck, quarantined); wrongly bricked = a run whose slot the agent marked `bricked` while',
    'the simulator says the phone is healthy; success rate = restored / runs ended.',
    '',
    table(
      [
        'policy',
        'phones loaded',
        'restored',
        'restores per hour',
        'success rate',
        'needing a human',
        'wrongly bricked',
        'correctly bricked',
        'unfinished at dawn',
        'attempts',
      ],
      outcomes.map((o) => describe(o, options.hours)),
    ),
    '',
    ...outcomes.map(
      (o) =>
        `Restored/loaded per host, ${o.label}: ${o.perHost.join(', ')}. Ends other than done: ${
          o.endsByState.size === 0
            ? 'none'
            : [...o.endsByState]
                .sort((a, b) => b[1] - a[1])
                .map(([why, count]) => `${count} ${why}`)
                .join(', ')
        }.`,
    ),
    '',
    table(
      [
        'policy',
        'wall time',
        'machine CPU (2 cores)',
        'agent CPU, each (% of a core)',
        'server CPU',
        'agent peak RSS',
        'agent event-loop delay p99',
      ],
      outcomes.map(describeMachine),
    ),
    '',
    table(
      ['measure', 'result', 'target', ''],
      [
        [
          'phones restored per night vs baseline',
          ours && baseline
            ? `${ours.restored} vs ${baseline.restored} (${Number.isFinite(gain) ? `${gain >= 0 ? '+' : ''}${(gain * 100).toFixed(0)} %` : '—'})`
            : 'not run',
          '≥ +20 %',
          verdict(moreRestored),
        ],
        [
          'phones wrongly marked bricked (bench)',
          ours ? String(ours.wronglyBricked) : 'not run',
          '0',
          verdict(noneWronglyBricked),
        ],
      ],
    ),
  ].join('\n');
  process.stdout.write(`\n${body}\n`);
  const fullRun = options.hours === 8 && ours !== undefined && baseline !== undefined;
  if (fullRun) record(ROOT, 'Fleet night, 4 hosts × 64 ports (bench:fleet)', 'npm run bench:fleet', body);
  else process.stdout.write('\n(a partial run: BENCHMARKS.md is not updated)\n');
  if (!moreRestored || !noneWronglyBricked) process.exitCode = 1;
}

void main().catch((error: unknown) => {
  process.stderr.write(`bench:fleet failed: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
