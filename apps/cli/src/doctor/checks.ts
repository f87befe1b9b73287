// The checks behind `bench doctor`. Each says what it found and, when not OK, how to fix it.
import { existsSync, lstatSync, readdirSync, statfsSync } from 'node:fs';
import { connect } from 'node:net';
import path from 'node:path';
import { ConfigError, loadBenchConfig, type BenchEnv } from '@bench/config';
import { probeRedis } from '@bench/jobs';
import { BenchDatabase } from '@bench/persistence';
import { APPLE_VENDOR_ID, canOpenReadWrite, inspectHubs, listSysfsUsbDevices } from '@bench/usb-transport';
import { findOnPath } from '../start/process-utils';
import { REDIS_INSTALL_HINT } from '../start/resolve-redis';

export type CheckStatus = 'OK' | 'WARN' | 'FAIL';

export interface CheckResult {
  name: string;
  status: CheckStatus;
  detail: string;
  fix?: string;
}

const GiB = 1024 ** 3;
/** 20.19 is the first Node 20 that loads ES-module dependencies (plist) with require(). */
export const MIN_NODE = { major: 20, minor: 19 };
export const DEFAULT_USBMUXD_SOCKET = '/var/run/usbmuxd';

export function checkNode(version = process.versions.node): CheckResult {
  const [major, minor] = version.split('.').map(Number);
  const recent = major > MIN_NODE.major || (major === MIN_NODE.major && minor >= MIN_NODE.minor);
  const minimum = `${MIN_NODE.major}.${MIN_NODE.minor}`;
  return recent
    ? { name: 'Node.js', status: 'OK', detail: `v${version}` }
    : {
        name: 'Node.js',
        status: 'FAIL',
        detail: `v${version} is older than ${minimum}`,
        fix: `install Node.js ${minimum} or newer (https://nodejs.org or your distribution's nodejs package)`,
      };
}

export function checkConfig(env: BenchEnv): CheckResult {
  const name = 'bench.config.yaml';
  if (!existsSync(env.configFile)) {
    return {
      name,
      status: 'WARN',
      detail: `${env.configFile} not found: every port will show as an unlabelled slot`,
      fix: 'copy bench.config.example.yaml to bench.config.yaml and describe your benches and slots',
    };
  }
  try {
    const config = loadBenchConfig(env.configFile);
    const slots = config.hosts.flatMap((h) => h.benches.flatMap((b) => b.slots)).length;
    return {
      name,
      status: 'OK',
      detail: `${config.hosts.length} host(s), ${slots} slot(s), ${Object.keys(config.policies).length} polic(ies)`,
    };
  } catch (error) {
    if (error instanceof ConfigError)
      return { name, status: 'FAIL', detail: error.message, fix: 'correct the file as the message says' };
    throw error;
  }
}

export async function checkRedis(env: BenchEnv): Promise<CheckResult[]> {
  const name = 'Redis';
  let url = env.redis.url;
  if (!url) {
    const local = `redis://${env.redis.probe.host}:${env.redis.probe.port}`;
    if ((await probeRedis(local, 800)).ok) url = local;
    else if (findOnPath('redis-server', env.searchPath)) {
      return [
        {
          name,
          status: 'OK',
          detail: `nothing answers on ${env.redis.probe.host}:${env.redis.probe.port}; bench start will run its own redis-server (data in var/redis)`,
        },
      ];
    } else {
      return [
        {
          name,
          status: 'FAIL',
          detail: `no Redis on ${env.redis.probe.host}:${env.redis.probe.port} and no redis-server on PATH`,
          fix: REDIS_INSTALL_HINT,
        },
      ];
    }
  }
  const probe = await probeRedis(url);
  if (!probe.ok) {
    return [
      {
        name,
        status: 'FAIL',
        detail: `${url} unreachable: ${probe.error}`,
        fix: env.redis.url
          ? `start the Redis at ${url} (sudo systemctl start redis-server) or correct REDIS_URL; unset REDIS_URL to let bench start its own`
          : REDIS_INSTALL_HINT,
      },
    ];
  }
  const results: CheckResult[] = [{ name, status: 'OK', detail: `${url} (Redis ${probe.version})` }];
  results.push(
    probe.maxmemoryPolicy === 'noeviction'
      ? { name: 'Redis maxmemory-policy', status: 'OK', detail: 'noeviction' }
      : {
          name: 'Redis maxmemory-policy',
          status: 'FAIL',
          detail: `${probe.maxmemoryPolicy}: Redis may evict queued restore jobs`,
          fix: 'redis-cli CONFIG SET maxmemory-policy noeviction, and set "maxmemory-policy noeviction" in redis.conf',
        },
  );
  results.push(
    probe.appendonly === 'yes'
      ? { name: 'Redis persistence', status: 'OK', detail: 'append-only file on' }
      : {
          name: 'Redis persistence',
          status: 'WARN',
          detail: 'append-only file off: a Redis restart loses queued jobs (runs are kept in the database)',
          fix: 'set "appendonly yes" in redis.conf (bench\'s own redis-server has it on)',
        },
  );
  return results;
}

export async function checkDatabase(env: BenchEnv): Promise<CheckResult> {
  const name = 'Database';
  const database = BenchDatabase.fromUrl(env.database.url, env.home);
  try {
    const result = await database.migrate();
    await database.ping();
    return {
      name,
      status: 'OK',
      detail: `${database.describe()} (${result.alreadyApplied + result.applied.length} migrations)`,
    };
  } catch (error) {
    return {
      name,
      status: 'FAIL',
      detail: `${database.describe()}: ${(error as Error).message}`,
      fix:
        database.kind === 'sqlite'
          ? `make ${path.dirname(env.database.sqliteFile ?? '')} writable, or unset DATABASE_URL for the default var/bench.db`
          : 'check that PostgreSQL runs and DATABASE_URL (postgresql://USER@HOST:PORT/DB) is right',
    };
  } finally {
    await database.close().catch(() => undefined);
  }
}

export async function checkUsbmuxd(env: BenchEnv): Promise<CheckResult[]> {
  const results: CheckResult[] = [];
  const address = env.usbmuxdSocketAddress;
  if (address && !address.startsWith('UNIX:')) {
    const [host, port] = [
      address.slice(0, address.lastIndexOf(':')),
      Number(address.slice(address.lastIndexOf(':') + 1)),
    ];
    const ok = await canConnectTcp(host.replace(/^\[|\]$/g, ''), port);
    results.push(
      ok
        ? { name: 'usbmuxd socket', status: 'OK', detail: `USBMUXD_SOCKET_ADDRESS ${address} answers` }
        : {
            name: 'usbmuxd socket',
            status: 'FAIL',
            detail: `USBMUXD_SOCKET_ADDRESS ${address} refuses connections`,
            fix: 'start the usbmuxd (or simulator) at that address, or unset USBMUXD_SOCKET_ADDRESS',
          },
    );
  } else {
    const socketPath = address ? address.slice('UNIX:'.length) : DEFAULT_USBMUXD_SOCKET;
    const isSocket = existsSync(socketPath) && lstatSync(socketPath).isSocket();
    results.push(
      isSocket
        ? { name: 'usbmuxd socket', status: 'OK', detail: socketPath }
        : {
            name: 'usbmuxd socket',
            status: 'WARN',
            detail: `${socketPath} missing: phones in normal and restore mode cannot be reached`,
            fix: 'sudo apt-get install usbmuxd; udev starts it when an iPhone is plugged in (or: sudo systemctl start usbmuxd)',
          },
    );
  }
  const binary = findOnPath('usbmuxd', env.searchPath);
  const unit = ['/lib/systemd/system/usbmuxd.service', '/usr/lib/systemd/system/usbmuxd.service'].find((f) =>
    existsSync(f),
  );
  results.push(
    binary
      ? {
          name: 'usbmuxd service',
          status: 'OK',
          detail: `${binary}${unit ? ` (systemd unit ${unit})` : ' (no systemd unit found)'}`,
        }
      : {
          name: 'usbmuxd service',
          status: 'WARN',
          detail: 'usbmuxd is not installed',
          fix: 'sudo apt-get install usbmuxd',
        },
  );
  return results;
}

export function checkUsbAccess(sysfsRoot?: string): CheckResult {
  const name = 'USB access (05ac)';
  const apple = listSysfsUsbDevices(sysfsRoot).filter((d) => d.vendorId === APPLE_VENDOR_ID);
  const udevRule = ['/etc/udev/rules.d', '/lib/udev/rules.d'].some(
    (dir) => existsSync(dir) && readdirSync(dir).some((f) => f.includes('bench-apple')),
  );
  const fix =
    'sudo cp deploy/udev/39-bench-apple.rules /etc/udev/rules.d/ && sudo udevadm control --reload && sudo udevadm trigger (then re-plug), or run the agent as root';
  if (apple.length === 0) {
    return udevRule || process.getuid?.() === 0
      ? {
          name,
          status: 'OK',
          detail: `no Apple device attached; ${udevRule ? 'udev rule installed' : 'running as root'}`,
        }
      : {
          name,
          status: 'WARN',
          detail: 'no Apple device attached and the bench udev rule is not installed',
          fix,
        };
  }
  const denied = apple.filter((d) => !canOpenReadWrite(d.devNode));
  return denied.length === 0
    ? { name, status: 'OK', detail: `${apple.length} Apple device(s), all accessible` }
    : {
        name,
        status: 'FAIL',
        detail: `permission denied on ${denied.map((d) => `${d.portPath} (${d.devNode})`).join(', ')}`,
        fix,
      };
}

export function checkDisk(env: BenchEnv): CheckResult {
  const name = 'Firmware cache disk';
  let dir = env.firmware.dir;
  while (!existsSync(dir) && path.dirname(dir) !== dir) dir = path.dirname(dir);
  const stats = statfsSync(dir);
  const free = stats.bavail * stats.bsize;
  const detail = `${(free / GiB).toFixed(1)} GiB free at ${dir}`;
  if (free < 8 * GiB) {
    return {
      name,
      status: 'FAIL',
      detail: `${detail}; one IPSW needs 6–10 GiB`,
      fix: 'free disk space or set BENCH_FIRMWARE_DIR to a larger disk',
    };
  }
  if (free < 32 * GiB) {
    return {
      name,
      status: 'WARN',
      detail: `${detail}; a few IPSWs at most`,
      fix: 'keep 32 GiB or more free for several firmware builds',
    };
  }
  return { name, status: 'OK', detail };
}

export async function checkHubs(sysfsRoot?: string): Promise<CheckResult> {
  const name = 'Hub port power';
  const hubs = listSysfsUsbDevices(sysfsRoot).filter(
    (d) => d.deviceClass === 0x09 && !d.portPath.startsWith('usb'),
  );
  if (hubs.length === 0) {
    return {
      name,
      status: 'WARN',
      detail: 'no external USB hub found',
      fix: 'use powered USB 2.0 hubs; hubs with per-port power switching let bench power-cycle a stuck phone',
    };
  }
  const reports = await inspectHubs();
  const external = reports.filter((r) => !r.portPath.startsWith('usb'));
  const perPort = external.filter((r) => r.descriptor?.powerSwitching === 'per-port');
  const unreadable = external.filter((r) => r.error);
  const detail = external
    .map(
      (r) =>
        `${r.portPath}: ${r.descriptor ? `${r.descriptor.powerSwitching} (${r.descriptor.ports} ports)` : `unreadable (${r.error})`}`,
    )
    .join('; ');
  if (perPort.length === external.length) return { name, status: 'OK', detail };
  return {
    name,
    status: 'WARN',
    detail,
    fix: unreadable.length
      ? 'install deploy/udev/39-bench-apple.rules (it also grants hub access) or run doctor as root to read hub descriptors'
      : 'hubs without per-port power switching cannot power-cycle one phone; bench will ask a technician instead',
  };
}

function canConnectTcp(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port, timeout: 1_000 });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
  });
}
