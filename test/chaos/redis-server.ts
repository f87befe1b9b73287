// A redis-server of the test's own, configured like the one `bench start` embeds (append-only
// file on, noeviction), on a free port with its data in a directory the test owns, so the test
// can restart it with the same data while the bench uses it through REDIS_URL.
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import path from 'node:path';
import { createRedis, probeRedis } from '@bench/jobs';
import { waitFor } from '@bench/testing';

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
    server.once('error', reject);
  });
}

export class RedisServer {
  private child?: ChildProcess;
  restarts = 0;

  private constructor(
    readonly dir: string,
    readonly port: number,
  ) {}

  static async start(dir: string): Promise<RedisServer> {
    const redis = new RedisServer(dir, await freePort());
    await redis.spawn();
    return redis;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** SHUTDOWN (Redis writes out its append-only file), a pause, then the same port and data again. */
  async restart(downMs: number): Promise<void> {
    await this.shutdown();
    await new Promise((resolve) => setTimeout(resolve, downMs));
    await this.spawn();
    this.restarts++;
  }

  async stop(): Promise<void> {
    if (this.child && this.child.exitCode === null)
      await this.shutdown().catch(() => this.child?.kill('SIGKILL'));
  }

  private async shutdown(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    const client = createRedis(this.url, 'probe');
    client.on('error', () => undefined);
    await client.connect();
    // The connection drops as the server exits; that is the answer.
    await client.shutdown().catch(() => undefined);
    client.disconnect();
    await exited;
  }

  private async spawn(): Promise<void> {
    // prettier-ignore
    const args = [
      '--port', String(this.port), '--bind', '127.0.0.1', '--dir', this.dir,
      '--appendonly', 'yes', '--appendfsync', 'everysec', '--save', '',
      '--maxmemory-policy', 'noeviction', '--logfile', path.join(this.dir, 'redis.log'),
    ];
    const child = spawn('redis-server', args, { stdio: 'ignore' });
    this.child = child;
    await waitFor(
      async () => (child.exitCode === null && (await probeRedis(this.url, 500)).ok) || undefined,
      15_000,
      `redis-server on port ${this.port} (log in ${this.dir}/redis.log)`,
    );
  }
}
