// The state one attempt shares with its steps, and the scope each stage runs in.
import { BenchError, STAGES, StuckError, type Stage } from '@bench/bench-domain';
import type { OpenFirmware } from '@bench/firmware';
import type { RestoreDependencies, RestoreRequest, EngineClock, EngineLogger } from './engine-types';
import { filesystemBudget } from './budgets';
import type { DeviceLocator } from './locate/device-locator';
import type { Personalizer } from './personalizer';
import type { RestoreEvent } from './restore-events';

export interface AttemptContext {
  request: RestoreRequest;
  deps: Required<Pick<RestoreDependencies, 'bus' | 'usbmux' | 'tss'>> &
    Pick<RestoreDependencies, 'admission'>;
  clock: EngineClock;
  logger: EngineLogger;
  locator: DeviceLocator;
  emit: (event: DistributiveOmit<RestoreEvent, 'at'>) => void;
  budgets: Record<Stage, number>;
  /** The stage running now (for progress events and failure evidence). */
  stage: Stage;
  lastDeviceMessage?: string;
  batteryFailing?: string;
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

export interface PreparedRestore {
  firmware: OpenFirmware;
  personalizer: Personalizer;
  productType: string;
  targetVersion: string;
  targetBuild: string;
  /** The recovery device that came back after our iBEC `go` (iBEC is running on it). */
  ibecDeviceId?: string;
}

/**
 * A stage's lifetime: its budget timer and an abort signal linked to the request's. A restore
 * session moves through several stages on one connection, so a scope can switch stage, which
 * emits the stage event and restarts the budget.
 */
export class StageScope {
  private readonly controller = new AbortController();
  private timer?: NodeJS.Timeout;
  private readonly onCancel: () => void;
  private budgetMs = 0;

  constructor(
    private readonly context: AttemptContext,
    private readonly requestSignal: AbortSignal | undefined,
    private readonly onStage: (stage: Stage) => void,
    initial: Stage,
    /** Says why the budget ran out: a phone that left is `transient-usb`, one that stays is `stuck`. */
    private readonly diagnose: (stage: Stage, budgetMs: number) => Promise<BenchError> = async (
      stage,
      budgetMs,
    ) =>
      new StuckError(`${stage} did not finish within its ${Math.round(budgetMs / 1000)} s budget`, { stage }),
  ) {
    this.onCancel = () => this.controller.abort(requestSignal?.reason);
    requestSignal?.addEventListener('abort', this.onCancel, { once: true });
    if (requestSignal?.aborted) this.onCancel();
    this.enter(initial);
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** Moves to `stage` (forward only) with a fresh budget. */
  switch(stage: Stage): void {
    if (stage === this.context.stage || STAGES.indexOf(stage) < STAGES.indexOf(this.context.stage)) return;
    this.enter(stage);
  }

  /** The filesystem's budget grows with the image. */
  extendBudgetForBytes(bytes: number): void {
    this.arm(
      filesystemBudget(bytes, this.context.budgets['send-filesystem'], this.context.request.timeScale),
    );
  }

  /** Runs `work` with the budget stopped (waiting in line is not the stage being slow), then re-arms it. */
  async paused<T>(work: () => Promise<T>): Promise<T> {
    clearTimeout(this.timer);
    try {
      return await work();
    } finally {
      this.arm(this.budgetMs);
    }
  }

  /** Settles with `work`, or rejects as soon as the scope aborts (budget, cancel). */
  run<T>(work: Promise<T>): Promise<T> {
    return raceAbort(work, this.controller.signal).catch((error: unknown) => {
      const reason: unknown = this.controller.signal.reason;
      if (this.controller.signal.aborted && reason instanceof BenchError) throw reason;
      throw error;
    });
  }

  close(): void {
    clearTimeout(this.timer);
    this.requestSignal?.removeEventListener('abort', this.onCancel);
  }

  private enter(stage: Stage): void {
    this.context.stage = stage;
    this.onStage(stage);
    this.context.emit({ type: 'stage', stage });
    this.arm(this.context.budgets[stage]);
  }

  private arm(budgetMs: number): void {
    clearTimeout(this.timer);
    this.budgetMs = budgetMs;
    const stage = this.context.stage;
    this.timer = setTimeout(() => {
      void this.diagnose(stage, this.budgetMs)
        .catch(
          () =>
            new StuckError(
              `${stage} did not finish within its ${Math.round(this.budgetMs / 1000)} s budget`,
              { stage },
            ),
        )
        .then((failure) => {
          const evidence = failure.evidence as { lastDeviceMessage?: string };
          evidence.lastDeviceMessage ??= this.context.lastDeviceMessage;
          this.controller.abort(failure);
        });
    }, budgetMs);
  }
}

/** Rejects as soon as the signal aborts, even if `work` ignores it. */
function raceAbort<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const abort = () => reject(signal.reason);
    signal.addEventListener('abort', abort, { once: true });
    work.then(
      (value) => {
        signal.removeEventListener('abort', abort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', abort);
        reject(error);
      },
    );
  });
}
