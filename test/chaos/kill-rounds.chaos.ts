// Chaos: kill -9 of the server and of the bench agent while phones receive their filesystem,
// 20 rounds each. Every round waits for an upload under way, kills the server, then (the upload
// still going: the agent does it, not the server) kills the agent; the supervisor restarts both.
// An agent kill leaves its jobs to BullMQ's stalled-job recovery (about 30 s, the lock time), so
// the rounds are spread over several benches running side by side. Afterwards every phone has
// exactly one run, which ended done exactly once, and no process exited but by our kills.
import { waitFor } from '@bench/testing';
import { startBench, type RunningBench } from '../e2e/bench-process.helper';
import {
  checkLedger,
  crashCount,
  exitReport,
  killChild,
  LiveSlots,
  outputTail,
  settledLedger,
  stallSnapshot,
  waitForRestart,
  type LedgerCheck,
} from './chaos-bench';
import { recordFigures } from './figures';

const ROUNDS = 20;
const BENCHES = 4;
const PHONES_PER_BENCH = 3;
// Fast enough for short rounds. At 40x a USB 2.0 controller moves the 48 MiB filesystem in about
// half a second of wall time, no longer than the agent's 500 ms live-slot throttle: a round could
// miss every upload, and once each phone is done there is none left to hit (CI saw that). A
// 4 Mbit/s controller makes each upload last seconds (two at a time per controller).
const SPEED = '40';
const OS_SIZE = String(48 * 1024 * 1024);
const CONTROLLER_MBPS = '4';

jest.setTimeout(9 * 60_000);

interface BenchOutcome {
  serverKills: number;
  agentKills: number;
  ledger: LedgerCheck;
  finalSlots: string[];
  crashes: number;
  exits: ReturnType<typeof exitReport>;
}

/** One bench: `rounds` rounds of server kill + agent kill mid-upload, then the record is checked. */
async function killRounds(name: string, rounds: number, benches: RunningBench[]): Promise<BenchOutcome> {
  const hostId = `chaos-${name}`;
  const bench = await startBench(['--simulate', String(PHONES_PER_BENCH), '--speed', SPEED], {
    BENCH_HOST_ID: hostId,
    BENCH_SIM_OS_SIZE: OS_SIZE,
    BENCH_SIM_CONTROLLER_MBPS: CONTROLLER_MBPS,
  });
  benches.push(bench);
  const slots = new LiveSlots(bench.state().redis.url, hostId);
  let serverKills = 0;
  let agentKills = 0;
  try {
    const ecids = (
      await waitFor(
        async () => {
          const phones = await slots.phones();
          return phones.length === PHONES_PER_BENCH ? phones : undefined;
        },
        60_000,
        `${hostId}: every simulated phone seen`,
      )
    ).map((slot) => slot.ecid as string);

    for (let round = 1; round <= rounds; round++) {
      const what = `${hostId} round ${round}`;
      await waitFor(() => slots.uploading(), 150_000, `${what}: a filesystem upload under way`);
      const server = await killChild(bench, 'server');
      serverKills++;
      // The agent keeps uploading without the server; kill it while that is still so.
      await waitFor(() => slots.uploading(), 5_000, `${what}: the upload to go on without the server`);
      const agent = await killChild(bench, 'agent');
      agentKills++;
      await Promise.all([waitForRestart(bench, 'server', server), waitForRestart(bench, 'agent', agent)]);
    }

    const ledger = await settledLedger(bench.database().prisma, ecids, 5 * 60_000);
    const finalSlots = (await slots.phones()).map((slot) => slot.state);
    const exits = exitReport(bench.process.output);
    return { serverKills, agentKills, ledger, finalSlots, crashes: crashCount(exits), exits };
  } catch (error) {
    // Still count what was done and what the record holds, so the summary tells the truth.
    const ledger = await checkLedger(bench.database().prisma, []).catch(
      () => ({ runs: 0, lost: 0, duplicated: 0, problems: [], states: {} }) as LedgerCheck,
    );
    recordFigures('kill-rounds', {
      serverKills,
      agentKills,
      runsChecked: ledger.runs,
      runsLost: ledger.lost,
      runsDuplicated: ledger.duplicated,
      crashes: crashCount(exitReport(bench.process.output)),
    });
    const snapshot = await stallSnapshot(slots, bench.database().prisma).catch((e: Error) => e.message);
    throw new Error(
      `${(error as Error).message}\n${hostId} now:\n${snapshot}\n${hostId} output:\n${outputTail(bench, 200)}`,
    );
  } finally {
    slots.close();
  }
}

describe('kill -9 of the agent and the server during uploads', () => {
  const benches: RunningBench[] = [];
  afterAll(() => Promise.all(benches.map((bench) => bench.stop())));

  it(`loses and duplicates no run over ${ROUNDS} rounds each, and nothing else crashes`, async () => {
    const perBench = Array.from(
      { length: BENCHES },
      (_, i) => Math.floor(ROUNDS / BENCHES) + (i < ROUNDS % BENCHES ? 1 : 0),
    );
    const outcomes = await Promise.all(
      perBench.map((rounds, i) => killRounds(String.fromCharCode(97 + i), rounds, benches)),
    );
    for (const outcome of outcomes) {
      recordFigures('kill-rounds', {
        serverKills: outcome.serverKills,
        agentKills: outcome.agentKills,
        runsChecked: outcome.ledger.runs,
        runsLost: outcome.ledger.lost,
        runsDuplicated: outcome.ledger.duplicated,
        crashes: outcome.crashes,
      });
    }

    expect(outcomes.reduce((n, o) => n + o.agentKills, 0)).toBe(ROUNDS);
    expect(outcomes.reduce((n, o) => n + o.serverKills, 0)).toBe(ROUNDS);
    for (const [i, outcome] of outcomes.entries()) {
      expect({ bench: i, problems: outcome.ledger.problems }).toEqual({ bench: i, problems: [] });
      expect(outcome.ledger.states).toEqual({ done: PHONES_PER_BENCH });
      expect(outcome.finalSlots).toEqual(Array(PHONES_PER_BENCH).fill('done'));
      // Every exit the supervisor saw was one of our kills; no stack trace, no uncaught error.
      expect(outcome.exits.killed).toEqual({ server: perBench[i], 'bench-agent': perBench[i] });
      expect(outcome.exits.unexpected).toEqual([]);
      expect(outcome.exits.traces).toEqual([]);
    }
  });
});
