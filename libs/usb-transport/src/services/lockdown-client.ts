// lockdownd (device port 62078 in normal mode) over an open channel; LockdownClient.open
// connects through usbmuxd.
import type { Duplex } from 'node:stream';
import {
  checkLockdownReply,
  decodeGetValueReply,
  decodeLockdownBattery,
  decodeQueryTypeReply,
  decodeStartServiceReply,
  decodeStartSessionReply,
  DEFAULT_LOCKDOWN_LABEL,
  LOCKDOWN_BATTERY_DOMAIN,
  LOCKDOWN_PORT,
  lockdownRequests,
  ProtocolError,
  type LockdownBattery,
  type PairRecord,
  type PlistDict,
  type PlistValue,
  type StartServiceReply,
  type StartSessionReply,
} from '@bench/protocols';
import type { UsbmuxClient } from '../usbmux/usbmux-client';
import { startPairRecordTls, type PairRecordTlsOptions } from './pair-record-tls';
import { PlistServiceClient, type PlistServiceClientOptions } from './plist-service-client';
import { DeviceServiceError } from './service-errors';

export interface LockdownClientOptions extends PlistServiceClientOptions {
  label?: string;
}

/**
 * Requests are answered in order; a reply that does not come within the timeout leaves the
 * stream out of step, so the client closes itself then. LockdownError (the device's `Error`
 * string, e.g. SessionInactive) passes through as is for the caller to act on.
 */
export class LockdownClient {
  readonly service: PlistServiceClient;
  private readonly label: string;
  private session?: { id: string; ssl: boolean };

  constructor(channel: Duplex, options: LockdownClientOptions = {}) {
    this.service = new PlistServiceClient(channel, { service: 'lockdownd', ...options });
    this.label = options.label ?? DEFAULT_LOCKDOWN_LABEL;
  }

  static async open(
    usbmux: UsbmuxClient,
    deviceId: number,
    options: LockdownClientOptions & { signal?: AbortSignal } = {},
  ): Promise<LockdownClient> {
    return new LockdownClient(
      await usbmux.connect(deviceId, LOCKDOWN_PORT, { signal: options.signal }),
      options,
    );
  }

  get sessionId(): string | undefined {
    return this.session?.id;
  }

  async queryType(): Promise<string> {
    return decodeQueryTypeReply(await this.request(lockdownRequests.queryType(this.label)));
  }

  /** A key of a domain, a whole domain (no key), or the whole global domain (neither). */
  async getValue(domain?: string, key?: string): Promise<PlistValue | undefined> {
    return decodeGetValueReply(await this.request(lockdownRequests.getValue({ domain, key }, this.label)));
  }

  /** The device reboots into recovery; it may close the connection before or after answering. */
  async enterRecovery(): Promise<void> {
    checkLockdownReply(await this.request(lockdownRequests.enterRecovery(this.label)), 'EnterRecovery');
  }

  /** Starts a paired session and, when the device asks for it, switches this socket to TLS. */
  async startSession(record: PairRecord, tlsOptions: PairRecordTlsOptions = {}): Promise<StartSessionReply> {
    const reply = decodeStartSessionReply(
      await this.request(
        lockdownRequests.startSession({ hostId: record.hostId, systemBuid: record.systemBuid }, this.label),
      ),
    );
    if (reply.enableSessionSsl) await startPairRecordTls(this.service, record, tlsOptions);
    this.session = { id: reply.sessionId, ssl: reply.enableSessionSsl };
    return reply;
  }

  async startService(name: string, options: { escrowBag?: Uint8Array } = {}): Promise<StartServiceReply> {
    return decodeStartServiceReply(
      await this.request(lockdownRequests.startService(name, options, this.label)),
    );
  }

  /**
   * Ends the session. The device then drops TLS on its side; a Node TLSSocket cannot be peeled
   * back to the plain socket, so after an SSL session the connection is closed here.
   */
  async stopSession(): Promise<void> {
    if (!this.session) return;
    const { id, ssl } = this.session;
    checkLockdownReply(await this.request(lockdownRequests.stopSession(id, this.label)), 'StopSession');
    this.session = undefined;
    if (ssl) this.service.close();
  }

  /** `com.apple.mobile.battery` (needs a session on most iOS versions). */
  async readBattery(): Promise<LockdownBattery> {
    return decodeLockdownBattery(await this.getValue(LOCKDOWN_BATTERY_DOMAIN));
  }

  async goodbye(): Promise<void> {
    if (this.service.closed) return;
    checkLockdownReply(await this.request(lockdownRequests.goodbye(this.label)), 'Goodbye');
  }

  close(): void {
    this.service.close();
  }

  private async request(message: PlistDict): Promise<PlistDict> {
    let reply: PlistDict;
    try {
      reply = await this.service.request(message);
    } catch (error) {
      if (error instanceof DeviceServiceError && error.kind === 'timeout') this.service.close();
      throw error;
    }
    return reply;
  }
}

/**
 * Battery state in one call: pair record from usbmuxd, lockdown connection, paired session,
 * the battery domain, then StopSession and close.
 */
export async function readLockdownBattery(
  usbmux: UsbmuxClient,
  device: { deviceId: number; udid: string },
  options: LockdownClientOptions & PairRecordTlsOptions & { signal?: AbortSignal } = {},
): Promise<LockdownBattery> {
  const record = await usbmux.readPairRecord(device.udid, { signal: options.signal });
  const lockdown = await LockdownClient.open(usbmux, device.deviceId, options);
  try {
    await lockdown.startSession(record, options);
    const battery = await lockdown.readBattery();
    await lockdown.stopSession();
    return battery;
  } catch (error) {
    if (error instanceof ProtocolError) {
      throw new DeviceServiceError('malformed', 'lockdownd', error.message, {}, { cause: error });
    }
    throw error;
  } finally {
    lockdown.close();
  }
}
