// Chaos: the database (PostgreSQL, behind a TCP proxy the test controls) goes away for 30 s while
// phones restore. The agents do not need it, so the restores go on and end; the API answers 503
// with a message that says the database is unavailable (not a crash, not a bare 500); the
// recorder keeps the agents' events in Redis until the database is back and then writes every
// one of them: each run done, ended once, and nothing left unacknowledged in the stream.
import { randomBytes } from 'node:crypto';
import { createRedis } from '@bench/jobs';
import { EVENT_STREAM } from '@bench/events';
import { BenchDatabase } from '@bench/persistence';
import { runBench, TEST_PG_URL, waitFor } from '@bench/testing';
import { Client } from 'pg';
import { ApiClient } from '../support/api-client';
import { startBench, type RunningBench } from '../e2e/bench-process.helper';
import { crashCount, exitReport, LiveSlots, settledLedger } from './chaos-bench';
import { recordFigures } from './figures';
import { TcpProxy } from './tcp-proxy';

const OUTAGE_MS = 30_000;
const PHONES = 3;
const HOST = 'chaos-db';

jest.setTimeout(6 * 60_000);

function databaseUrl(base: string, port: number | undefined, schema: string): string {
  const url = new URL(base);
  if (port !== undefined) url.port = String(port);
  url.searchParams.set('schema', schema);
  return url.toString();
}

describe('database unavailable for 30 s', () => {
  const pg = new URL(TEST_PG_URL);
  const proxy = new TcpProxy({ host: pg.hostname, port: Number(pg.port || 5432) });
  const schema = `chaos_${randomBytes(5).toString('hex')}`;
  let bench: RunningBench | undefined;
  let record: BenchDatabase | undefined;

  afterAll(async () => {
    await bench?.stop();
    await proxy.down();
    await record?.close();
    const client = new Client({ connectionString: TEST_PG_URL });
    await client.connect();
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await client.end();
  });

  it('restores go on, the API says 503, and every event is recorded once it is back', async () => {
    await proxy.up();
    const throughProxy = databaseUrl(TEST_PG_URL, proxy.port, schema);
    bench = await startBench(['--simulate', String(PHONES), '--speed', '30'], {
      BENCH_HOST_ID: HOST,
      DATABASE_URL: throughProxy,
      BENCH_SIM_OS_SIZE: String(16 * 1024 * 1024),
    });
    const running = bench;
    record = BenchDatabase.fromUrl(databaseUrl(TEST_PG_URL, undefined, schema));
    const prisma = record.prisma;
    const added = await runBench(
      ['user', 'add', '--username', 'chaos', '--role', 'manager', '--password', 'chaos-password-1'],
      { env: { PATH: process.env.PATH, BENCH_HOME: running.home, DATABASE_URL: throughProxy } },
    );
    expect(added.stderr).toBe('');
    const api = await ApiClient.login(running.serverUrl(), 'chaos', 'chaos-password-1');
    const slots = new LiveSlots(running.state().redis.url, HOST);
    const serverPid = running.state().server?.pid;

    try {
      // Every phone's run is in the record and restoring when the database goes.
      const ecids = await waitFor(
        async () => {
          const phones = await slots.phones();
          const runs = await prisma.run.count({ where: { state: 'running' } });
          return phones.length === PHONES && phones.every((s) => s.state === 'restoring') && runs === PHONES
            ? phones.map((s) => s.ecid as string)
            : undefined;
        },
        120_000,
        'every phone restoring, with its run in the record',
      );

      await proxy.down();
      const downAt = Date.now();
      // While it is away: the API says why, restores go on and end (agents do not need it).
      const answers: { status: number; message: string }[] = [];
      const ask = async () => {
        const answer = await api.call<{ message?: string }>('runs');
        answers.push({ status: answer.status, message: answer.body?.message ?? JSON.stringify(answer.body) });
      };
      await ask();
      const doneWhileDown = await waitFor(
        async () => {
          const phones = await slots.phones();
          return phones.every((s) => s.state === 'done') ? phones.length : undefined;
        },
        OUTAGE_MS - 3_000,
        'the restores to finish while the database is away',
      ).catch(() => 0);
      await ask();
      const health = await fetch(`${running.serverUrl()}/health`);
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, downAt + OUTAGE_MS - Date.now())));
      await proxy.up();
      const outageSeconds = Math.round((Date.now() - downAt) / 1000);

      // Back: the recorder catches up with everything the agents said meanwhile.
      const ledger = await settledLedger(prisma, ecids, 120_000);
      const redis = createRedis(running.state().redis.url, 'worker');
      const group = await waitFor(
        async () => {
          const groups = (await redis.xinfo('GROUPS', EVENT_STREAM)) as (string | number)[][];
          const recorder = groups.map(fields).find((g) => g.name === 'recorder');
          return recorder && Number(recorder.pending) === 0 && Number(recorder.lag) === 0
            ? recorder
            : undefined;
        },
        60_000,
        'the recorder to have read and acknowledged every event',
      ).catch(() => undefined);
      redis.disconnect();
      const endedWhileDown = await prisma.event.count({
        where: { kind: 'run.ended', at: { gte: new Date(downAt), lte: new Date(downAt + OUTAGE_MS) } },
      });
      const exits = exitReport(running.process.output);
      recordFigures('database-outage', {
        databaseOutageSeconds: outageSeconds,
        runsChecked: ledger.runs,
        runsLost: ledger.lost,
        runsDuplicated: ledger.duplicated,
        crashes: crashCount(exits),
      });

      expect(answers).toEqual([
        { status: 503, message: expect.stringMatching(/^database unavailable/) },
        { status: 503, message: expect.stringMatching(/^database unavailable/) },
      ]);
      expect(health.status).toBe(503);
      expect(doneWhileDown).toBe(PHONES);
      expect(ledger.problems).toEqual([]);
      expect(ledger.states).toEqual({ done: PHONES });
      // The runs ended while the database was away, and those events were written afterwards.
      expect(endedWhileDown).toBe(PHONES);
      expect(group).toBeDefined();
      expect(running.state().server?.pid).toBe(serverPid);
      expect(exits.unexpected).toEqual([]);
      expect(exits.traces).toEqual([]);
      expect((await api.call('runs')).status).toBe(200);
    } finally {
      slots.close();
    }
  });
});

/** XINFO GROUPS answers flat [name, value, name, value, …] lists. */
function fields(list: (string | number)[]): Record<string, string | number> {
  const out: Record<string, string | number> = {};
  for (let i = 0; i + 1 < list.length; i += 2) out[String(list[i])] = list[i + 1];
  return out;
}
