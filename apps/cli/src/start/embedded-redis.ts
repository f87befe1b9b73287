// Runs `redis-server` from PATH for a bench that has no Redis of its own: data under var/redis,
// append-only file on (a restart loses no job), maxmemory-policy noeviction (BullMQ requires it).
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { probeRedis } from '@bench/jobs';
import { freePort, processName, sleep, waitForExit } from './process-utils';

export class EmbeddedRedis {
  private constructor(
    private readonly child: ChildProcess,
    readonly port: number,
    readonly dir: string,
  ) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  static async start(binary: string, varDir: string): Promise<EmbeddedRedis> {
    const dir = path.join(varDir, 'redis');
    mkdirSync(dir, { recursive: true });
    const pidFile = path.join(dir, 'redis.pid');
    await stopStale(pidFile);
    const port = await freePort();
    // prettier-ignore
    const args = [
      '--port', String(port), '--bind', '127.0.0.1', '--dir', dir,
      '--appendonly', 'yes', '--appendfsync', 'everysec', '--save', '',
      '--maxmemory-policy', 'noeviction', '--daemonize', 'no',
      '--pidfile', pidFile, '--logfile', path.join(dir, 'redis.log'),
    ];
    const child = spawn(binary, args, { stdio: 'ignore' });
    const redis = new EmbeddedRedis(child, port, dir);
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline) {
      if (child.exitCode !== null) break;
      if ((await probeRedis(redis.url, 500)).ok) return redis;
      await sleep(100);
    }
    child.kill('SIGKILL');
    throw new Error(`redis-server did not start on port ${port}; see ${path.join(dir, 'redis.log')}`);
  }

  /** SIGTERM lets Redis flush its append-only file before exiting. */
  async stop(timeoutMs = 10_000): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.kill('SIGTERM');
    if (!(await waitForExit(this.child, timeoutMs))) {
      this.child.kill('SIGKILL');
      await waitForExit(this.child, 2_000);
    }
  }
}

/** A supervisor killed with SIGKILL leaves its redis-server behind; stop it before starting anew. */
async function stopStale(pidFile: string): Promise<void> {
  if (!existsSync(pidFile)) return;
  const pid = Number(readFileSync(pidFile, 'utf8').trim());
  if (Number.isInteger(pid) && pid > 0 && processName(pid) === 'redis-server') {
    process.kill(pid, 'SIGTERM');
    for (let i = 0; i < 100 && processName(pid) !== undefined; i++) await sleep(50);
  }
  rmSync(pidFile, { force: true });
}
