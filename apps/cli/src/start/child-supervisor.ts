// Keeps one app (server or bench-agent) running as a child process: restarts it with growing
// backoff when it crashes, and stops it cleanly on shutdown.
import { fork, type ChildProcess } from 'node:child_process';
import { isChildMessage, type AppName, type ReadyMessage } from '@bench/app-runtime';
import type { Logger } from '@bench/logging';
import { waitForExit } from './process-utils';

export interface ChildSupervisorOptions {
  app: AppName;
  entry: string;
  env: NodeJS.ProcessEnv;
  logger: Logger;
  /** Called for every (re)start once the child says it is ready. */
  onReady: (message: ReadyMessage) => void;
  /** Called when the child exits with a code that restarting cannot fix (config error). */
  onFatal: (code: number) => void;
  backoff?: { initialMs: number; maxMs: number; stableMs: number };
}

export class ChildSupervisor {
  private child?: ChildProcess;
  private stopping = false;
  private restartTimer?: NodeJS.Timeout;
  private delayMs: number;
  private startedAt = 0;
  restarts = 0;

  constructor(private readonly options: ChildSupervisorOptions) {
    this.delayMs = this.backoff.initialMs;
  }

  private get backoff() {
    return this.options.backoff ?? { initialMs: 1_000, maxMs: 30_000, stableMs: 60_000 };
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  start(): void {
    const { app, entry, env, logger } = this.options;
    this.startedAt = Date.now();
    const child = fork(entry, [], { env, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    this.child = child;
    child.on('message', (message) => {
      if (isChildMessage(message)) this.options.onReady(message);
    });
    child.once('exit', (code, signal) => {
      if (this.child === child) this.child = undefined;
      if (this.stopping) return;
      if (code === 2) {
        logger.error(`${app} exited with a configuration error (code 2); not restarting`);
        this.options.onFatal(2);
        return;
      }
      if (Date.now() - this.startedAt > this.backoff.stableMs) this.delayMs = this.backoff.initialMs;
      logger.warn(`${app} exited (${signal ?? `code ${code}`}); restarting in ${this.delayMs} ms`);
      this.restartTimer = setTimeout(() => {
        this.restarts++;
        this.start();
      }, this.delayMs);
      this.delayMs = Math.min(this.delayMs * 2, this.backoff.maxMs);
    });
  }

  /** Forwards a signal (SIGHUP, SIGUSR2…) to the running child. */
  signal(signal: NodeJS.Signals): void {
    this.child?.kill(signal);
  }

  /** SIGTERM, then SIGKILL after `timeoutMs` if the child has not finished its shutdown hooks. */
  async stop(timeoutMs = 20_000): Promise<void> {
    this.stopping = true;
    clearTimeout(this.restartTimer);
    const child = this.child;
    if (!child) return;
    child.kill('SIGTERM');
    if (!(await waitForExit(child, timeoutMs))) {
      this.options.logger.warn(`${this.options.app} did not stop within ${timeoutMs} ms; killing it`);
      child.kill('SIGKILL');
      await waitForExit(child, 5_000);
    }
  }
}
