// `bench status`: every slot of every host, as the agents report it now (from Redis).
import type { Command } from 'commander';
import { loadEnv, type BenchEnv } from '@bench/config';
import { createRedis, HOST_ONLINE_MS, LiveState, type LiveSlot } from '@bench/jobs';
import { runAction } from '../run-action';
import { readRunningBench } from '../running-bench';

/** REDIS_URL, else the Redis a running `bench start` uses (var/run/bench.json), else the local default. */
function redisUrl(env: BenchEnv): string {
  if (env.redis.url) return env.redis.url;
  const url = readRunningBench(env)?.redis?.url;
  if (url) return url;
  return `redis://${env.redis.probe.host}:${env.redis.probe.port}`;
}

export function registerStatus(program: Command): void {
  program
    .command('status')
    .description('every slot: state, phone, stage, progress, attempt, health')
    .option('--json', 'print JSON')
    .action((options: { json?: boolean }) =>
      runAction(async () => {
        const env = loadEnv();
        const redis = createRedis(redisUrl(env), 'probe');
        redis.on('error', () => undefined);
        try {
          const live = new LiveState(redis);
          const hosts = await live.hosts();
          const slots: LiveSlot[] = [];
          for (const host of Object.keys(hosts).sort()) slots.push(...(await live.slots(host)));
          if (options.json) {
            process.stdout.write(`${JSON.stringify({ hosts, slots })}\n`);
          } else {
            process.stdout.write(formatStatus(hosts, slots));
          }
          return 0;
        } finally {
          redis.disconnect();
        }
      }),
    );
}

function formatStatus(hosts: Record<string, number>, slots: LiveSlot[]): string {
  if (slots.length === 0) return 'no slots reported (is the agent running?)\n';
  const now = Date.now();
  const lines = Object.entries(hosts).map(
    ([host, at]) =>
      `host ${host}: ${now - at < HOST_ONLINE_MS ? 'online' : `offline (last seen ${Math.round((now - at) / 1000)} s ago)`}`,
  );
  const header = ['SLOT', 'PORT', 'STATE', 'PHONE', 'STAGE', 'PROGRESS', 'ATTEMPT', 'CABLE', 'DETAIL'];
  const rows = slots.map((s) => [
    s.label ?? '-',
    `${s.hostId}/${s.portPath}`,
    s.state,
    s.ecid ?? '-',
    s.stage ?? '-',
    s.percent === undefined ? '-' : `${s.percent}%${s.etaSeconds ? ` eta ${s.etaSeconds}s` : ''}`,
    s.attempt === undefined ? '-' : String(s.attempt),
    s.cableScore === undefined ? '-' : String(s.cableScore),
    (s.detail ?? '').slice(0, 60),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const format = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i]))
      .join('  ')
      .trimEnd();
  return `${[...lines, '', format(header), ...rows.map(format)].join('\n')}\n`;
}
