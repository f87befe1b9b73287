// A batch's step machine. The state lives in the database row and every step is idempotent:
// a step cut short by a server crash is simply taken again by the next tick, on this server or
// another. One step per batch at a time (a Redis lock with an expiry, so a killed server's lock
// lapses).
//   scheduled ──(its time)──► prefetching ──(every model fetched and signed)──► running ──► done
//        │                          └──(not signed, not fetched, host offline)──► attention
//   paused: runs not yet started are `held` (taken off their port's queue) until resume.
//   cancelled: held and queued runs end as cancelled; running ones are asked to stop.
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { BenchConfig } from '@bench/config';
import {
  AgentCommandSender,
  EventPublisher,
  PrefetchAnswers,
  type LiveSlot,
  type PrefetchItem,
  type PrefetchOutcome,
} from '@bench/jobs';
import type { Logger } from '@bench/logging';
import type { BatchRepository } from '@bench/persistence';
import type { SlotDirectory, SlotRow } from '../live/slot-directory';
import type { RunService } from '../records/run.service';
import {
  prefetchProblems,
  readJson,
  recheckWarnings,
  UNFINISHED_RUN_STATES,
  type StoredWarning,
} from './batch-rules';
import { doneMessage, type BatchNotices } from './batch-notices';
import type { BatchScheduler } from './batch-scheduler';

export type BatchRow = NonNullable<Awaited<ReturnType<BatchRepository['find']>>>;
type RunRow = Awaited<ReturnType<BatchRepository['runs']>>[number];

export interface HostItems {
  hostId: string;
  items: PrefetchItem[];
}

export type HostOutcome = PrefetchOutcome & { hostId: string };

/** The `prefetch` column: the request sent to the agents and, once all answered, their outcomes. */
export interface PrefetchState {
  requestId: string;
  sentAt: number;
  lastSentAt: number;
  hosts: HostItems[];
  /** Hosts whose agent heard the request at least once. */
  heard: string[];
  outcomes?: HostOutcome[];
  completedAt?: number;
}

/** The `signingCheck` column: the latest re-check of the builds' signing status. */
export interface SigningCheckState {
  requestId?: string;
  sentAt?: number;
  hosts?: HostItems[];
  completedAt?: number;
}

export interface BatchTarget {
  slot: SlotRow;
  live?: LiveSlot;
}

/** Resend a pre-fetch request to a host that has not answered (its agent may have restarted). */
const PREFETCH_RESEND_MS = 60_000;
/** A host whose agent never heard the request in this long is offline. */
const PREFETCH_OFFLINE_MS = 60_000;
/** Downloads of large IPSWs take a while; past this, a person looks. */
const PREFETCH_TIMEOUT_MS = 2 * 3600_000;
/** A signing re-check not answered in this long is closed with what came back. */
const RECHECK_ANSWER_MS = 5 * 60_000;
/** Ask a running run to cancel again this often while it has not stopped (its agent was away). */
const CANCEL_RESEND_MS = 30_000;
const LOCK_MS = 20_000;
const LOCK_POLL_MS = 50;
const RELEASE_LOCK = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;

export interface BatchStepsDeps {
  redis: Redis;
  batches: BatchRepository;
  runs: RunService;
  directory: SlotDirectory;
  scheduler: BatchScheduler;
  config: BenchConfig;
  logger: Logger;
  /** How often a scheduled or running batch asks the agents again whether its builds are signed. */
  signingRecheckMs: number;
  /** Webhooks that hear about a batch waiting for a person, a warning, or its end. */
  notices: BatchNotices;
}

export class BatchSteps {
  private readonly commands: AgentCommandSender;
  private readonly events: EventPublisher;
  private readonly answers: PrefetchAnswers;
  private readonly cancelAsked = new Map<string, number>();

  constructor(private readonly deps: BatchStepsDeps) {
    this.commands = new AgentCommandSender(deps.redis);
    this.events = new EventPublisher(deps.redis);
    this.answers = new PrefetchAnswers(deps.redis);
  }

  /** Takes the batch's next step, unless another worker is taking one (then the next tick will). */
  async advance(batchId: string): Promise<void> {
    await this.withLock(batchId, async () => {
      const batch = await this.deps.batches.find(batchId);
      if (!batch) return this.deps.scheduler.unschedule(batchId);
      switch (batch.state) {
        case 'scheduled':
          return this.whileScheduled(batch);
        case 'prefetching':
          return this.collectPrefetch(batch);
        case 'running':
          return this.whileRunning(batch);
        case 'paused':
          await this.holdQueuedRuns(batch);
          return this.recheckSigning(batch);
        case 'cancelled':
          return this.whileCancelled(batch);
        case 'attention':
          return; // a person decides: resume (pre-fetch again) or cancel
        default:
          return this.deps.scheduler.unschedule(batchId);
      }
    });
  }

  /**
   * Runs `step` holding the batch's lock; false when another worker holds it. `waitMs` waits that
   * long for the lock (an operator's action must not be skipped because a tick is under way).
   */
  async withLock(batchId: string, step: () => Promise<void>, waitMs = 0): Promise<boolean> {
    const key = `bench:batch-lock:${batchId}`;
    const token = randomUUID();
    const deadline = Date.now() + waitMs;
    while ((await this.deps.redis.set(key, token, 'PX', LOCK_MS, 'NX')) !== 'OK') {
      if (Date.now() >= deadline) return false;
      await new Promise((resolve) => setTimeout(resolve, LOCK_POLL_MS));
    }
    try {
      await step();
      return true;
    } finally {
      await this.deps.redis.eval(RELEASE_LOCK, 1, key, token);
    }
  }

  private get logger(): Logger {
    return this.deps.logger.child({ component: 'Batches' });
  }

  // ── scheduled ──────────────────────────────────────────────────────────────────────────────

  private async whileScheduled(batch: BatchRow): Promise<void> {
    if (batch.scheduledAt && batch.scheduledAt.getTime() > Date.now()) return this.recheckSigning(batch);
    await this.startPrefetch(batch);
  }

  /** Its time has come: ask every host with a chosen phone to fetch the firmware and check signing. */
  private async startPrefetch(batch: BatchRow): Promise<void> {
    const now = Date.now();
    const targets = await this.targets(batch);
    const withPhone = targets.filter((t) => t.live?.ecid && t.live.state !== 'quarantined');
    if (withPhone.length === 0) {
      await this.toAttention(
        batch,
        ['scheduled'],
        `none of the ${targets.length} chosen slot(s) has a phone ready: plug the phones in, then resume the batch`,
      );
      return;
    }
    const state: PrefetchState = {
      requestId: randomUUID(),
      sentAt: now,
      lastSentAt: now,
      hosts: itemsByHost(withPhone, batch.firmwareSelector),
      heard: [],
    };
    const started = await this.deps.batches.transition(batch.id, ['scheduled'], 'prefetching', {
      startedAt: batch.startedAt ?? new Date(now),
      prefetch: JSON.stringify(state),
      message: null,
    });
    if (!started) return;
    this.logger.info(
      `${named(batch)} started: ${withPhone.length} phone(s); pre-fetching ${describeItems(state.hosts)}`,
    );
    await this.sendPrefetch(batch, state, state.hosts);
  }

  private async sendPrefetch(batch: BatchRow, state: PrefetchState, hosts: HostItems[]): Promise<void> {
    for (const host of hosts) {
      const heard = await this.commands.send(host.hostId, {
        action: 'prefetch',
        requestId: state.requestId,
        items: host.items,
        behavior: batch.behavior === 'update' ? 'update' : 'erase',
        by: `batch ${batch.name}`,
      });
      if (heard > 0 && !state.heard.includes(host.hostId)) state.heard.push(host.hostId);
    }
    state.lastSentAt = Date.now();
    await this.deps.batches.update(batch.id, { prefetch: JSON.stringify(state) });
  }

  // ── prefetching ────────────────────────────────────────────────────────────────────────────

  private async collectPrefetch(batch: BatchRow): Promise<void> {
    const state = readJson<PrefetchState | null>(batch.prefetch, null);
    if (!state) {
      // Nothing was sent (unreadable column): start the pre-fetch again.
      await this.deps.batches.transition(batch.id, ['prefetching'], 'scheduled');
      return;
    }
    if (!state.outcomes) {
      const answers = await this.answers.read(state.requestId);
      const missing = state.hosts.filter((host) => !answers.has(host.hostId));
      if (missing.length > 0) return this.chase(batch, state, missing);
      state.outcomes = state.hosts.flatMap((host) =>
        (answers.get(host.hostId)?.outcomes ?? []).map((outcome) => ({ ...outcome, hostId: host.hostId })),
      );
      state.completedAt = Date.now();
      const problems = prefetchProblems(state.outcomes);
      if (problems.length > 0) {
        await this.toAttention(batch, ['prefetching'], problems.join('; '), {
          prefetch: JSON.stringify(state),
        });
        return;
      }
      await this.deps.batches.update(batch.id, { prefetch: JSON.stringify(state) });
      this.logger.info(`${named(batch)}: every model fetched and signed; creating runs`);
    }
    await this.createRuns(batch, state);
  }

  /** Hosts that have not answered yet: resend to them, or give up when they are offline or too slow. */
  private async chase(batch: BatchRow, state: PrefetchState, missing: HostItems[]): Promise<void> {
    const now = Date.now();
    const offline = missing.filter((host) => !state.heard.includes(host.hostId));
    if (offline.length > 0 && now - state.sentAt > PREFETCH_OFFLINE_MS) {
      await this.toAttention(
        batch,
        ['prefetching'],
        `host ${offline.map((h) => h.hostId).join(', ')} is offline: its agent cannot pre-fetch; start it, then resume the batch`,
      );
      return;
    }
    if (now - state.sentAt > PREFETCH_TIMEOUT_MS) {
      await this.toAttention(
        batch,
        ['prefetching'],
        `host ${missing.map((h) => h.hostId).join(', ')} did not finish the pre-fetch in ${PREFETCH_TIMEOUT_MS / 3600_000} h; check its disk and network, then resume`,
      );
      return;
    }
    // An agent restarted mid-way forgets the request: ask again (a finished fetch is not redone).
    if (offline.length > 0 || now - state.lastSentAt > PREFETCH_RESEND_MS)
      await this.sendPrefetch(batch, state, missing);
  }

  /**
   * One run per chosen slot with a phone, pinned to the build pre-fetched for its model on its
   * host. A slot that already has a run of this batch is skipped, so a step taken twice (a crash
   * mid-way) creates each run once.
   */
  private async createRuns(batch: BatchRow, state: PrefetchState): Promise<void> {
    const existing = new Set((await this.deps.batches.runs(batch.id)).map((run) => run.slotId));
    const pinned = new Map(
      (state.outcomes ?? []).map((o) => [`${o.hostId}\u0000${o.productType}`, o.build ?? o.firmware]),
    );
    const leftOut: string[] = [];
    let created = 0;
    for (const target of await this.targets(batch)) {
      if (existing.has(target.slot.id)) continue;
      const still = await this.deps.batches.find(batch.id);
      if (still?.state !== 'prefetching') return; // paused or cancelled meanwhile: that step decides
      const reason = await this.whyNot(target);
      const label = target.slot.label ?? target.slot.portPath;
      if (reason) {
        leftOut.push(`${label} (${reason})`);
        continue;
      }
      const live = target.live as LiveSlot;
      const run = await this.deps.runs.create({
        hostId: target.slot.hostId,
        portPath: target.slot.portPath,
        deviceEcid: live.ecid,
        firmwareSelector:
          pinned.get(`${target.slot.hostId}\u0000${live.productType ?? ''}`) ?? batch.firmwareSelector,
        behavior: batch.behavior,
        policy: this.policyFor(batch, target.slot),
        operator: batch.createdBy ?? `batch ${batch.name}`,
        batchId: batch.id,
      });
      created++;
      this.logger.debug(`run ${run.id} on ${target.slot.hostId}/${target.slot.portPath} for ${live.ecid}`);
      await this.deps.redis.pexpire(`bench:batch-lock:${batch.id}`, LOCK_MS);
    }
    const runs = existing.size + created;
    const note = leftOut.length ? `left out: ${leftOut.join(', ')}` : null;
    if (runs === 0) {
      await this.toAttention(batch, ['prefetching'], `no chosen slot could take a run; ${note}`);
      return;
    }
    if (
      await this.deps.batches.transition(batch.id, ['prefetching'], 'running', {
        message: note,
        signingCheck: JSON.stringify({ completedAt: Date.now() } satisfies SigningCheckState),
      })
    )
      this.logger.info(`${named(batch)} running: ${runs} run(s)${note ? `; ${note}` : ''}`);
  }

  /** Why a chosen slot gets no run now; undefined when it can take one. */
  private async whyNot(target: BatchTarget): Promise<string | undefined> {
    if (!target.live?.ecid) return 'no phone';
    if (target.live.state === 'quarantined') return 'quarantined';
    const [latest] = await this.deps.runs.runs.list({ slotId: target.slot.id, limit: 1 });
    if (latest && (UNFINISHED_RUN_STATES as readonly string[]).includes(latest.state))
      return `busy with run ${latest.id}`;
    return undefined;
  }

  private policyFor(batch: BatchRow, slot: SlotRow): string {
    if (batch.policy) return batch.policy;
    const bench = this.deps.config.hosts
      .find((host) => host.id === slot.hostId)
      ?.benches.find((b) => b.id === slot.benchId);
    return bench?.policy ?? 'default';
  }

  // ── running, paused, cancelled ─────────────────────────────────────────────────────────────

  private async whileRunning(batch: BatchRow): Promise<void> {
    await this.releaseHeldRuns(batch);
    await this.recheckSigning(batch);
    const unfinished = UNFINISHED_RUN_STATES.reduce((sum, state) => sum + (batch.runStates[state] ?? 0), 0);
    if (unfinished > 0) return;
    if (await this.deps.batches.transition(batch.id, ['running'], 'done', { finishedAt: new Date() })) {
      const counts = Object.entries(batch.runStates)
        .map(([state, n]) => `${n} ${state}`)
        .join(', ');
      this.logger.info(`${named(batch)} done: ${counts}`);
      this.deps.notices.notify({ ...batch, state: 'done' }, 'done', doneMessage(batch));
      await this.deps.scheduler.unschedule(batch.id);
    }
  }

  /** Keeps the runs not yet started off their ports' queues (the record says `held`). */
  async holdQueuedRuns(batch: { id: string }): Promise<number> {
    let held = 0;
    for (const run of await this.deps.batches.runs(batch.id)) {
      if (run.state !== 'queued') continue;
      // The record first: a crash after it leaves a job the agent may still run (and then the
      // record says running), never a queued run without its job.
      if (!(await this.deps.batches.setRunState(run.id, 'queued', 'held'))) continue;
      const outcome = await this.deps.runs.queues.remove(run.hostId, run.portPath, run.id);
      if (outcome === 'active') await this.deps.batches.setRunState(run.id, 'held', 'queued');
      else held++;
    }
    return held;
  }

  /** Puts held runs back on their ports' queues (resume). */
  async releaseHeldRuns(batch: { id: string }): Promise<number> {
    let released = 0;
    for (const run of await this.deps.batches.runs(batch.id)) {
      if (run.state !== 'held') continue;
      // The job first: a crash after it leaves a held run whose job runs (the record then says running).
      await this.deps.runs.requeue(run);
      if (await this.deps.batches.setRunState(run.id, 'held', 'queued')) released++;
      // It was cancelled meanwhile: its job must not run.
      else await this.deps.runs.queues.remove(run.hostId, run.portPath, run.id);
    }
    return released;
  }

  private async whileCancelled(batch: BatchRow): Promise<void> {
    const left = await this.cancelRuns(batch, 'the batch was cancelled', 'batch');
    if (left > 0) return;
    await this.deps.batches.update(batch.id, { finishedAt: new Date() });
    await this.deps.scheduler.unschedule(batch.id);
    this.logger.info(`${named(batch)} cancelled: every run has ended`);
  }

  /**
   * Ends held and queued runs as cancelled, asks the agents to stop running ones; returns how
   * many runs have not ended yet.
   */
  async cancelRuns(batch: { id: string; name: string }, reason: string, by: string): Promise<number> {
    let left = 0;
    for (const run of await this.deps.batches.runs(batch.id)) {
      if (!(UNFINISHED_RUN_STATES as readonly string[]).includes(run.state)) continue;
      left++;
      if (run.state === 'held' || (await this.takeOffQueue(run)) === 'gone') {
        await this.endCancelled(run, `cancelled with batch ${batch.name}: ${reason}`);
        left--;
        continue;
      }
      const askedAt = this.cancelAsked.get(run.id) ?? 0;
      if (Date.now() - askedAt < CANCEL_RESEND_MS) continue;
      this.cancelAsked.set(run.id, Date.now());
      await this.commands.send(run.hostId, {
        action: 'cancel',
        portPath: run.portPath,
        runId: run.id,
        reason: `batch ${batch.name} cancelled: ${reason}`,
        by,
      });
    }
    return left;
  }

  /**
   * `gone`: the run has no job any more (removed now, or never added): it can be ended here.
   * `busy`: an agent holds it, or it ended on the agent and the record has not caught up.
   */
  private async takeOffQueue(run: RunRow): Promise<'gone' | 'busy'> {
    const queue = this.deps.runs.queues.queue(run.hostId, run.portPath);
    const job = await queue.getJob(run.id);
    if (!job) return 'gone';
    return (await this.deps.runs.queues.remove(run.hostId, run.portPath, run.id)) === 'removed'
      ? 'gone'
      : 'busy';
  }

  private async endCancelled(run: RunRow, message: string): Promise<void> {
    const at = Date.now();
    await this.deps.runs.runs.runEnded(run.id, new Date(at), {
      state: 'cancelled',
      failureClass: 'cancelled',
      message,
    });
    await this.events.publish({
      kind: 'run.ended',
      hostId: run.hostId,
      portPath: run.portPath,
      at,
      runId: run.id,
      state: 'cancelled',
      failureClass: 'cancelled',
      message,
    });
  }

  // ── signing re-checks ──────────────────────────────────────────────────────────────────────

  /**
   * Every `signingRecheckMs` while the batch waits or runs: ask the agents again whether its
   * builds are signed, and raise a warning (stored, logged, on the record stream) for a build
   * that stopped being signed.
   */
  private async recheckSigning(batch: BatchRow): Promise<void> {
    const now = Date.now();
    const check = readJson<SigningCheckState>(batch.signingCheck, {});
    if (check.requestId && check.completedAt === undefined) {
      const answers = await this.answers.read(check.requestId);
      const waiting = (check.hosts ?? []).some((host) => !answers.has(host.hostId));
      if (waiting && now - (check.sentAt ?? now) < RECHECK_ANSWER_MS) return;
      const outcomes = [...answers.values()].flatMap((answer) =>
        answer.outcomes.map((outcome) => ({ ...outcome, hostId: answer.hostId })),
      );
      await this.raiseWarnings(batch, outcomes, { ...check, completedAt: now });
      return;
    }
    const last = check.completedAt ?? batch.createdAt.getTime();
    if (now - last < this.deps.signingRecheckMs) return;
    const hosts = await this.recheckItems(batch);
    const next: SigningCheckState =
      hosts.length > 0 ? { requestId: randomUUID(), sentAt: now, hosts } : { completedAt: now };
    await this.deps.batches.update(batch.id, { signingCheck: JSON.stringify(next) });
    for (const host of hosts)
      await this.commands.send(host.hostId, {
        action: 'prefetch',
        requestId: next.requestId as string,
        items: host.items,
        behavior: batch.behavior === 'update' ? 'update' : 'erase',
        by: `batch ${batch.name} (signing re-check)`,
      });
  }

  /** The builds pinned by the pre-fetch once it is done; before that, what the selector gives the chosen phones. */
  private async recheckItems(batch: BatchRow): Promise<HostItems[]> {
    const prefetch = readJson<PrefetchState | null>(batch.prefetch, null);
    if (prefetch?.outcomes) {
      const byHost = new Map<string, PrefetchItem[]>();
      for (const outcome of prefetch.outcomes) {
        if (!outcome.build) continue;
        const items = byHost.get(outcome.hostId) ?? [];
        items.push({ productType: outcome.productType, firmware: outcome.build });
        byHost.set(outcome.hostId, items);
      }
      return [...byHost].map(([hostId, items]) => ({ hostId, items }));
    }
    const withPhone = (await this.targets(batch)).filter((t) => t.live?.ecid);
    return itemsByHost(withPhone, batch.firmwareSelector);
  }

  private async raiseWarnings(
    batch: BatchRow,
    outcomes: HostOutcome[],
    check: SigningCheckState,
  ): Promise<void> {
    const warnings = readJson<StoredWarning[]>(batch.warnings, []);
    const raised = recheckWarnings(outcomes, warnings, batch.state, Date.now());
    await this.deps.batches.update(batch.id, {
      signingCheck: JSON.stringify(check),
      ...(raised.length ? { warnings: JSON.stringify([...warnings, ...raised]) } : {}),
    });
    for (const warning of raised) {
      this.logger.warn(`${named(batch)}: ${warning.message}`);
      this.deps.notices.notify(batch, 'warning', `${batch.name}: ${warning.message}`);
      await this.events.publish({
        kind: 'batch.warning',
        at: Date.parse(warning.at),
        hostId: warning.hostId ?? outcomes[0]?.hostId ?? 'server',
        batchId: batch.id,
        warning: warning.kind,
        message: warning.message,
        productType: warning.productType ?? undefined,
        build: warning.build ?? undefined,
      });
    }
  }

  // ── shared ─────────────────────────────────────────────────────────────────────────────────

  private async toAttention(
    batch: BatchRow,
    from: string[],
    message: string,
    fields: { prefetch?: string } = {},
  ): Promise<void> {
    if (await this.deps.batches.transition(batch.id, from, 'attention', { message, ...fields })) {
      this.logger.warn(`${named(batch)} needs attention: ${message}`);
      this.deps.notices.notify({ ...batch, state: 'attention' }, 'attention', `${batch.name}: ${message}`);
    }
  }

  /** The chosen slots (one by one, and every slot of the chosen benches) with what each shows now. */
  async targets(batch: BatchRow): Promise<BatchTarget[]> {
    const slotIds = new Set(readJson<string[]>(batch.slotIds, []));
    const benchIds = new Set(batch.benches.map((bench) => bench.benchId));
    const slots = (await this.deps.directory.all()).filter(
      (slot) => slotIds.has(slot.id) || benchIds.has(slot.benchId),
    );
    for (const id of slotIds) {
      if (slots.some((slot) => slot.id === id)) continue;
      const slot = await this.deps.directory.byId(id);
      if (slot) slots.push(slot);
    }
    const live = new Map<string, LiveSlot>();
    for (const hostId of new Set(slots.map((slot) => slot.hostId)))
      for (const slot of await this.deps.runs.live.slots(hostId))
        live.set(`${hostId}\u0000${slot.portPath}`, slot);
    return slots
      .sort(
        (a, b) =>
          a.hostId.localeCompare(b.hostId) ||
          a.portPath.localeCompare(b.portPath, undefined, { numeric: true }),
      )
      .map((slot) => ({ slot, live: live.get(`${slot.hostId}\u0000${slot.portPath}`) }));
  }
}

/** Per host, each model on its chosen phones once (phones whose model is not known yet are left to the restore). */
export function itemsByHost(targets: readonly BatchTarget[], firmware: string): HostItems[] {
  const byHost = new Map<string, Set<string>>();
  for (const target of targets) {
    const productType = target.live?.productType;
    if (!productType) continue;
    const models = byHost.get(target.slot.hostId) ?? new Set<string>();
    models.add(productType);
    byHost.set(target.slot.hostId, models);
  }
  return [...byHost].map(([hostId, models]) => ({
    hostId,
    items: [...models].sort().map((productType) => ({ productType, firmware })),
  }));
}

/** How logs name a batch: its name and id. */
function named(batch: { id: string; name: string }): string {
  return `batch "${batch.name}" [${batch.id}]`;
}

function describeItems(hosts: readonly HostItems[]): string {
  if (hosts.length === 0) return 'nothing (no model known yet)';
  return hosts
    .map((host) => `${host.items.map((i) => `${i.productType} ${i.firmware}`).join(', ')} on ${host.hostId}`)
    .join('; ');
}
