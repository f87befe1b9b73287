// A batch's pre-fetch on this host: for each model, resolve the firmware through the host's
// store (downloading it into the cache when the store does), then ask the signing server
// whether it still signs that build, the way tsschecker does: a TSS request built from the
// manifest's identity for the model, with a random ECID and nonce (status 0 = signed, 94 = not
// signed, no answer = the signing server is unreachable). The answer goes to Redis, keyed by the
// request id, where the server that asked reads it.
import { randomBytes } from 'node:crypto';
import { SigningRefusedError, type RestoreBehavior } from '@bench/bench-domain';
import {
  FirmwareServiceError,
  hardwareModelFor,
  LATEST_SIGNED,
  selectBuildIdentity,
  type FirmwareStore,
  type ResolvedFirmware,
  type TssClient,
} from '@bench/firmware';
import type { AgentCommand, PrefetchAnswers, PrefetchItem, PrefetchOutcome } from '@bench/jobs';
import type { Logger } from '@bench/logging';
import { buildTssRequest } from '@bench/protocols';

export type PrefetchCommand = Extract<AgentCommand, { action: 'prefetch' }>;

export interface FirmwarePrefetchDeps {
  hostId: string;
  firmware: FirmwareStore;
  tss: TssClient;
  answers: PrefetchAnswers;
  logger: Logger;
}

export class FirmwarePrefetch {
  /** A server repeats a request it has no answer to; one already under way is not started twice. */
  private readonly underWay = new Set<string>();

  constructor(private readonly deps: FirmwarePrefetchDeps) {}

  async handle(command: PrefetchCommand): Promise<void> {
    if (this.underWay.has(command.requestId)) return;
    this.underWay.add(command.requestId);
    try {
      const outcomes: PrefetchOutcome[] = [];
      for (const item of command.items) outcomes.push(await this.prepare(item, command.behavior));
      await this.deps.answers.put({
        requestId: command.requestId,
        hostId: this.deps.hostId,
        at: Date.now(),
        outcomes,
      });
      for (const outcome of outcomes)
        this.deps.logger.info(
          `pre-fetch for ${command.by}: ${outcome.productType} ${outcome.firmware} → ${outcome.build ?? '?'}: ` +
            `${outcome.fetched ? 'in the store' : 'not fetched'}, ${outcome.signing}` +
            (outcome.message ? ` (${outcome.message})` : ''),
        );
    } finally {
      this.underWay.delete(command.requestId);
    }
  }

  /** One model: its IPSW, then what the signing server says about it. Failures are outcomes, not throws. */
  async prepare(item: PrefetchItem, behavior: RestoreBehavior): Promise<PrefetchOutcome> {
    const base = { productType: item.productType, firmware: item.firmware };
    let resolved: ResolvedFirmware;
    try {
      resolved = await this.deps.firmware.resolve(
        item.productType,
        item.firmware === 'latest' ? LATEST_SIGNED : item.firmware,
      );
    } catch (error) {
      return {
        ...base,
        fetched: false,
        signing: 'not-checked',
        message: `cannot fetch the IPSW: ${(error as Error).message}`,
        at: Date.now(),
      };
    }
    const found = { ...base, build: resolved.build, version: resolved.version, fetched: true };
    let request;
    try {
      request = await this.signingRequest(resolved, behavior);
    } catch (error) {
      return {
        ...found,
        signing: 'error',
        message: `cannot build a signing request from the IPSW: ${(error as Error).message}`,
        at: Date.now(),
      };
    }
    try {
      await this.deps.tss.requestTicket(request);
      return { ...found, signing: 'signed', at: Date.now() };
    } catch (error) {
      const message = (error as Error).message;
      if (error instanceof SigningRefusedError)
        return { ...found, signing: 'not-signed', message, at: Date.now() };
      if (error instanceof FirmwareServiceError)
        return { ...found, signing: 'unreachable', message, at: Date.now() };
      return { ...found, signing: 'error', message, at: Date.now() };
    }
  }

  /** A request for the model's identity, as for a phone nobody has: random ECID and nonces. */
  private async signingRequest(resolved: ResolvedFirmware, behavior: RestoreBehavior) {
    const open = await this.deps.firmware.open(resolved);
    try {
      const identity = selectBuildIdentity(open.manifest, {
        productType: resolved.productType,
        hardwareModel: hardwareModelFor(open.manifest, resolved.productType),
        behavior,
      });
      return buildTssRequest(identity, {
        ApECID: randomBytes(8).readBigUInt64BE() & 0xffffffffffffn,
        ApNonce: randomBytes(32),
        SepNonce: randomBytes(20),
        ApProductionMode: true,
        ApSecurityMode: true,
      });
    } finally {
      await open.close();
    }
  }
}
