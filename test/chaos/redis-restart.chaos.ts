// Chaos: Redis (append-only file on, as `bench start` runs its own) restarts in the middle of a
// batch, while phones receive their filesystem. The bench uses it through REDIS_URL; the test
// shuts it down (SHUTDOWN: Redis writes out its append-only file), keeps it away a few seconds
// and starts it again on the same port with the same data. Queues, run specs and the events the
// agent published meanwhile survive: the batch finishes, every phone restored exactly once.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { topologyFor } from '@bench/device-sim';
import type { BatchView } from '@bench/events';
import { tempDir, waitFor } from '@bench/testing';
import { addUser, ApiClient } from '../support/api-client';
import { startBench, type RunningBench } from '../e2e/bench-process.helper';
import { crashCount, exitReport, LiveSlots, outputTail, settledLedger } from './chaos-bench';
import { recordFigures } from './figures';
import { RedisServer } from './redis-server';

const PHONES = 6;
const HOST = 'chaos-redis';
const DOWN_MS = 5_000;

jest.setTimeout(6 * 60_000);

/** The simulated ports as one bench without auto-start: only the batch restores. */
function rackConfig(): string {
  const ports = topologyFor(PHONES).controllers.flatMap((controller) =>
    controller.hubs.flatMap((hub) => Array.from({ length: hub.ports }, (_, i) => `${hub.path}.${i + 1}`)),
  );
  const slots = ports.map((port, i) => `          - { port: "${port}", label: R${i + 1} }`).join('\n');
  return `hosts:\n  - id: ${HOST}\n    benches:\n      - id: rack\n        slots:\n${slots}\n`;
}

describe('Redis restart mid-batch', () => {
  const { dir, remove } = tempDir('bench-chaos-redis-');
  let redis: RedisServer | undefined;
  let bench: RunningBench | undefined;

  afterAll(async () => {
    await bench?.stop();
    await redis?.stop();
    remove();
  });

  it('loses and duplicates no run, and the batch finishes', async () => {
    redis = await RedisServer.start(dir);
    const config = path.join(dir, 'bench.config.yaml');
    writeFileSync(config, rackConfig());
    bench = await startBench(['--simulate', String(PHONES), '--speed', '30'], {
      BENCH_HOST_ID: HOST,
      BENCH_CONFIG: config,
      REDIS_URL: redis.url,
      BENCH_SIM_OS_SIZE: String(32 * 1024 * 1024),
      // Uploads that last seconds, so one is surely seen under way (see kill-rounds.chaos.ts).
      BENCH_SIM_CONTROLLER_MBPS: '4',
    });
    const running = bench;
    await addUser(running.home, 'max', 'manager', 'manager-password');
    const manager = await ApiClient.login(running.serverUrl(), 'max', 'manager-password');
    const slots = new LiveSlots(redis.url, HOST);
    try {
      const ecids = (
        await waitFor(
          async () => {
            const phones = await slots.phones();
            return phones.length === PHONES && phones.every((s) => s.productType) ? phones : undefined;
          },
          90_000,
          'every phone identified on the rack',
        )
      ).map((s) => s.ecid as string);
      const created = await manager.call<BatchView>(
        'createBatch',
        {},
        { name: 'chaos: redis restart', firmware: 'latest', behavior: 'erase', benchIds: ['rack'] },
      );
      expect(created.status).toBe(201);

      await waitFor(() => slots.uploading(), 120_000, 'a filesystem upload under way in the batch');
      const before = (await slots.phones()).map((s) => s.state);
      await redis.restart(DOWN_MS);

      const batch = await waitFor(
        async () => {
          const view = (await manager.call<BatchView>('batch', { batchId: created.body.id })).body;
          return view.state === 'done' ? view : undefined;
        },
        180_000,
        'the batch to finish after the restart',
      ).catch((error: Error) => {
        throw new Error(`${error.message}\n${outputTail(running)}`);
      });
      const ledger = await settledLedger(running.database().prisma, ecids, 60_000);
      const exits = exitReport(running.process.output);
      recordFigures('redis-restart', {
        redisRestarts: redis.restarts,
        runsChecked: ledger.runs,
        runsLost: ledger.lost,
        runsDuplicated: ledger.duplicated,
        crashes: crashCount(exits),
      });

      // The restart hit restores in progress, not an idle bench.
      expect(before.filter((state) => state === 'restoring').length).toBeGreaterThan(0);
      expect(batch.progress).toMatchObject({ total: PHONES, done: PHONES, unfinished: 0 });
      expect(ledger.problems).toEqual([]);
      expect(ledger.states).toEqual({ done: PHONES });
      expect((await slots.phones()).map((s) => s.state)).toEqual(Array(PHONES).fill('done'));
      expect(exits.unexpected).toEqual([]);
      expect(exits.traces).toEqual([]);
    } finally {
      slots.close();
    }
  });
});
