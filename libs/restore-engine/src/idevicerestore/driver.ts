// Runs Debian's (or any) idevicerestore as bench's restore engine: one child process per
// attempt, its output parsed into the same events and failure classes as the native engine.
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import {
  BenchError,
  CancelledError,
  DeviceHardwareError,
  FirmwareInvalidError,
  HostSetupError,
  PowerError,
  SigningRefusedError,
  StuckError,
  TransientUsbError,
  type FailureClass,
  type FailureEvidence,
} from '@bench/bench-domain';
import type { RestoreEvent, RestoreEventListener } from '../restore-events';
import { helpOffersSigningServer, idevicerestoreArguments, type IdevicerestoreRequest } from './arguments';
import { IdevicerestoreLogParser, type IdevicerestoreSuccess } from './log-parser';

export interface IdevicerestoreDriverOptions {
  /** The binary; default `idevicerestore`, looked up on the PATH of `env`. */
  binaryPath?: string;
  /**
   * The child's whole environment: PATH, and USBMUXD_SOCKET_ADDRESS for a simulator. The
   * library never reads process.env; without PATH, Node searches /usr/bin:/bin.
   */
  env?: Readonly<Record<string, string>>;
  /** Time between SIGTERM and SIGKILL when an attempt is cancelled or times out. */
  killGraceMs?: number;
  now?: () => number;
}

export interface IdevicerestoreRunOptions extends IdevicerestoreRequest {
  signal?: AbortSignal;
  /** Overall limit for the attempt; exceeding it is `stuck`. */
  timeoutMs?: number;
  onEvent?: RestoreEventListener;
}

export interface IdevicerestoreRunResult {
  verdict: IdevicerestoreSuccess;
  durationMs: number;
}

type Ending =
  | { kind: 'exit'; code: number | null; signal: NodeJS.Signals | null }
  | { kind: 'spawn-error'; error: NodeJS.ErrnoException }
  | { kind: 'cancelled' }
  | { kind: 'timeout' }
  | { kind: 'listener-error'; error: unknown };

const DEFAULT_KILL_GRACE_MS = 5_000;

export class IdevicerestoreDriver {
  private readonly binaryPath: string;
  private readonly env: Record<string, string>;
  private readonly killGraceMs: number;
  private readonly now: () => number;
  private signingServerSupport: Promise<boolean> | undefined;

  constructor(options: IdevicerestoreDriverOptions = {}) {
    this.binaryPath = options.binaryPath ?? 'idevicerestore';
    this.env = { ...(options.env ?? {}) };
    this.killGraceMs = options.killGraceMs ?? DEFAULT_KILL_GRACE_MS;
    this.now = options.now ?? Date.now;
  }

  /** Resolves when idevicerestore reported `Status: Restore Finished` and DONE and exited 0. */
  async run(options: IdevicerestoreRunOptions): Promise<IdevicerestoreRunResult> {
    const started = this.now();
    if (options.signal?.aborted) {
      throw new CancelledError('cancelled before idevicerestore started', { stage: 'prepare' });
    }
    if (options.tssUrl !== undefined) await this.requireSigningServerSupport();
    const parser = new IdevicerestoreLogParser({ ecid: options.ecid, now: this.now });
    const attempt = new Attempt(
      this.spawn(idevicerestoreArguments(options)),
      parser,
      options,
      this.killGraceMs,
    );
    const ending = await attempt.finished;
    return this.conclude(ending, parser, options.onEvent, started);
  }

  private spawn(args: string[]): ChildProcess {
    // its own process group, so cancelling also ends anything it started
    return spawn(this.binaryPath, args, { env: this.env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  }

  private requireSigningServerSupport(): Promise<void> {
    this.signingServerSupport ??= this.readHelp().then(helpOffersSigningServer);
    return this.signingServerSupport.then((supported) => {
      if (!supported) {
        throw new HostSetupError(
          `${this.binaryPath} has no --server option (Debian's 1.0.0 reads -s as "use Cydia"): a signing URL needs idevicerestore built after April 2023`,
          { stage: 'prepare' },
        );
      }
    });
  }

  private readHelp(): Promise<string> {
    return new Promise((resolve, reject) => {
      const child = spawn(this.binaryPath, ['--help'], { env: this.env, stdio: ['ignore', 'pipe', 'pipe'] });
      let text = '';
      child.stdout.on('data', (chunk: Buffer) => (text += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (text += chunk.toString()));
      child.once('error', (error) => reject(missingBinary(this.binaryPath, error)));
      child.once('close', () => resolve(text));
    });
  }

  private conclude(
    ending: Ending,
    parser: IdevicerestoreLogParser,
    onEvent: RestoreEventListener | undefined,
    started: number,
  ): IdevicerestoreRunResult {
    const stage = parser.currentStage;
    const fail = (error: BenchError): never => {
      onEvent?.({
        type: 'failed',
        failureClass: error.failureClass,
        message: error.message,
        evidence: error.evidence,
        at: this.now(),
      });
      throw error;
    };
    switch (ending.kind) {
      case 'listener-error':
        throw ending.error;
      case 'spawn-error':
        return fail(missingBinary(this.binaryPath, ending.error));
      case 'cancelled':
        return fail(
          new CancelledError(`cancelled during ${stage}`, { stage, detail: 'idevicerestore was stopped' }),
        );
      case 'timeout':
        return fail(
          new StuckError(`idevicerestore gave no result in time (during ${stage})`, {
            stage,
            detail: 'overall timeout',
          }),
        );
      case 'exit':
        break;
    }
    const exit = ending.signal ? `signal ${ending.signal}` : `exit code ${ending.code}`;
    const verdict = parser.result();
    if (verdict.ok && ending.code === 0) {
      onEvent?.({ type: 'done', at: this.now() });
      return { verdict, durationMs: this.now() - started };
    }
    if (verdict.ok) {
      return fail(
        new BenchError(`idevicerestore ended with ${exit} after "Status: Restore Finished"`, 'unknown', {
          stage,
          detail: exit,
        }),
      );
    }
    const message = verdict.rule === 'no-verdict' ? `${verdict.message} (${exit})` : verdict.message;
    const evidence: FailureEvidence = {
      ...verdict.evidence,
      detail: `${verdict.evidence.detail ?? ''} (${exit}; ${verdict.reason})`,
    };
    return fail(errorForClass(verdict.failureClass, message, evidence));
  }
}

/** One running child: its output goes through the parser; it ends exactly once. */
class Attempt {
  readonly finished: Promise<Ending>;
  private ending: Ending | undefined;
  private readonly timers: NodeJS.Timeout[] = [];

  constructor(
    private readonly child: ChildProcess,
    private readonly parser: IdevicerestoreLogParser,
    private readonly options: IdevicerestoreRunOptions,
    private readonly killGraceMs: number,
  ) {
    this.finished = new Promise((resolve) => this.watch(resolve));
  }

  private watch(resolve: (ending: Ending) => void): void {
    const { child, options } = this;
    const outputClosed = [child.stdout, child.stderr].map((stream) => {
      if (!stream) return Promise.resolve();
      const lines = createInterface({ input: stream, crlfDelay: Infinity });
      lines.on('line', (line) => this.deliver(this.parser.push(line)));
      return new Promise<void>((done) => lines.once('close', done));
    });
    const onAbort = (): void => this.stop({ kind: 'cancelled' });
    options.signal?.addEventListener('abort', onAbort, { once: true });
    if (options.timeoutMs !== undefined) {
      this.timers.push(setTimeout(() => this.stop({ kind: 'timeout' }), options.timeoutMs));
    }
    child.once('error', (error: NodeJS.ErrnoException) => {
      this.ending ??= { kind: 'spawn-error', error };
      this.cleanUp(onAbort);
      resolve(this.ending);
    });
    child.once('exit', (code, signal) => {
      // anything it left behind in its process group goes too (it would hold the pipes open)
      this.signalGroup('SIGKILL');
      void Promise.all(outputClosed).then(() => {
        this.ending ??= { kind: 'exit', code, signal };
        this.cleanUp(onAbort);
        resolve(this.ending);
      });
    });
  }

  private deliver(events: RestoreEvent[]): void {
    const listener = this.options.onEvent;
    if (!listener || this.ending) return;
    try {
      for (const event of events) listener(event);
    } catch (error) {
      this.stop({ kind: 'listener-error', error });
    }
  }

  private stop(ending: Ending): void {
    if (this.ending) return;
    this.ending = ending;
    this.signalGroup('SIGTERM');
    this.timers.push(setTimeout(() => this.signalGroup('SIGKILL'), this.killGraceMs));
  }

  private signalGroup(signal: NodeJS.Signals): void {
    const pid = this.child.pid;
    if (pid === undefined) return;
    try {
      process.kill(-pid, signal);
    } catch (error) {
      // ESRCH: the group is already gone
      if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
    }
  }

  private cleanUp(onAbort: () => void): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.options.signal?.removeEventListener('abort', onAbort);
  }
}

function missingBinary(binaryPath: string, error: NodeJS.ErrnoException): BenchError {
  const detail = `${error.code ?? 'error'}: ${error.message}`;
  return error.code === 'ENOENT'
    ? new HostSetupError(
        `${binaryPath} not found: install Debian's idevicerestore package or configure its path`,
        {
          stage: 'prepare',
          detail,
        },
      )
    : new HostSetupError(`cannot run ${binaryPath}: ${error.message}`, { stage: 'prepare', detail });
}

function errorForClass(failureClass: FailureClass, message: string, evidence: FailureEvidence): BenchError {
  switch (failureClass) {
    case 'transient-usb':
      return new TransientUsbError(message, evidence);
    case 'power':
      return new PowerError(message, evidence);
    case 'signing-refused':
      return new SigningRefusedError(message, evidence);
    case 'firmware-invalid':
      return new FirmwareInvalidError(message, evidence);
    case 'stuck':
      return new StuckError(message, evidence);
    case 'device-hardware':
      return new DeviceHardwareError(message, evidence);
    case 'host-setup':
      return new HostSetupError(message, evidence);
    case 'cancelled':
      return new CancelledError(message, evidence);
    case 'unknown':
      return new BenchError(message, 'unknown', evidence);
  }
}
