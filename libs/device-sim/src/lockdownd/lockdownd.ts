// lockdownd on device port 62078 while the phone runs iOS: QueryType, GetValue (global,
// battery and disk domains), pairing (Pair / ValidatePair / Unpair), sessions with in-place TLS,
// StartService (the diagnostics relay), EnterRecovery and Goodbye. Replies echo `Request` and
// report failures as an `Error` string, which is how libimobiledevice 1.3.0 reads them.
import { randomUUID } from 'node:crypto';
import type { Duplex } from 'node:stream';
import {
  DIAGNOSTICS_RELAY_SERVICE,
  LOCKDOWN_PORT,
  LOCKDOWN_SERVICE_TYPE,
  optionalDict,
  optionalString,
  type PlistDict,
} from '@bench/protocols';
import type { SimPhone } from '../phone/sim-phone';
import { pairingOf, type DevicePairing, type TrustedHost } from '../pairing/device-pairing';
import type { MuxDevice, UsbmuxPersonality } from '../usbmux/mux-device';
import { PlistServiceConnection } from '../usbmux/plist-service-connection';
import { serveDiagnosticsRelay } from './diagnostics-relay';
import {
  BATTERY_DOMAIN,
  DISK_USAGE_DOMAIN,
  PUBLIC_GLOBAL_KEYS,
  batteryDomain,
  diskUsageDomain,
  globalDomain,
  lockdownStateOf,
} from './lockdown-values';

export interface LockdownOptions {
  /**
   * How the phone answers `Pair`: `trust` (no passcode set, as on a freshly erased or refurbished
   * phone: pairs at once), `pending` (a passcode is set and nobody taps Trust), `deny`.
   */
  pairing?: 'trust' | 'pending' | 'deny';
  /** Simulated ms from EnterRecovery until the phone shows up in recovery. */
  enterRecoveryMs?: number;
  /** Simulated ms a reboot into iOS takes (diagnostics Restart). */
  bootMs?: number;
}

const DEFAULTS: Required<LockdownOptions> = {
  pairing: 'trust',
  enterRecoveryMs: 8_000,
  bootMs: 35_000,
};

export class LockdownPersonality implements UsbmuxPersonality {
  private readonly options: Required<LockdownOptions>;

  constructor(options: LockdownOptions = {}) {
    this.options = { ...DEFAULTS, ...options };
  }

  attach(device: MuxDevice): void {
    device.ports.listen(LOCKDOWN_PORT, (channel) => new LockdownConnection(channel, device, this.options));
  }
}

interface Session {
  id: string;
  host: TrustedHost;
}

class LockdownConnection {
  private readonly connection: PlistServiceConnection;
  private readonly phone: SimPhone;
  private readonly pairing: DevicePairing;
  private session?: Session;

  constructor(
    channel: Duplex,
    private readonly device: MuxDevice,
    private readonly options: Required<LockdownOptions>,
  ) {
    this.phone = device.phone;
    this.pairing = pairingOf(this.phone);
    this.connection = new PlistServiceConnection(channel, {
      name: 'lockdownd',
      // A frame it cannot read (over the size limit, not a plist dict) or a dict without a
      // string `Request`: lockdownd's usual `Error` reply, then it hangs up. There is no request
      // name to echo.
      malformedReply: () => ({ Error: 'InvalidRequest' }),
    });
    this.connection.start((request) => this.handle(request));
  }

  private async handle(request: PlistDict): Promise<void> {
    const name = request.Request;
    if (typeof name !== 'string' || name === '') {
      return this.connection.refuse(new Error('lockdownd request without a Request name'));
    }
    switch (name) {
      case 'QueryType':
        return this.reply(name, { Type: LOCKDOWN_SERVICE_TYPE });
      case 'GetValue':
        return this.getValue(request);
      case 'SetValue':
        return this.setValue(request);
      case 'Pair':
        return this.pair(request);
      case 'ValidatePair':
        return this.validatePair(request);
      case 'Unpair':
        return this.unpair(request);
      case 'StartSession':
        return this.startSession(request);
      case 'StopSession':
        return this.stopSession(request);
      case 'StartService':
        return this.startService(request);
      case 'EnterRecovery':
        return this.enterRecovery();
      case 'Goodbye':
        await this.reply(name, { Result: 'Success' });
        return this.connection.close();
      default:
        return this.error(name, 'InvalidRequest');
    }
  }

  private reply(request: string, body: PlistDict = {}): Promise<void> {
    return this.connection.send({ Request: request, ...body });
  }

  private error(request: string, error: string): Promise<void> {
    return this.connection.send({ Request: request, Error: error });
  }

  private async getValue(request: PlistDict): Promise<void> {
    const domain = optionalString(request, 'Domain');
    const key = optionalString(request, 'Key');
    const echo: PlistDict = {};
    if (domain !== undefined) echo.Domain = domain;
    if (key !== undefined) echo.Key = key;
    const values = await this.domainValues(domain);
    if (!values) return this.error('GetValue', domain && !this.session ? 'GetProhibited' : 'MissingValue');
    if (key === undefined) return this.reply('GetValue', { ...echo, Value: values });
    const value = values[key];
    if (value === undefined) {
      const hidden = !this.session && !domain && !PUBLIC_GLOBAL_KEYS.has(key);
      return this.error('GetValue', hidden ? 'GetProhibited' : 'MissingValue');
    }
    return this.reply('GetValue', { ...echo, Value: value });
  }

  /** The domain's values as this connection may see them (public keys only without a session). */
  private async domainValues(domain: string | undefined): Promise<PlistDict | undefined> {
    if (domain === undefined) {
      const all = globalDomain(this.phone, await this.pairing.publicKeyPem());
      if (this.session) return all;
      return Object.fromEntries(Object.entries(all).filter(([key]) => PUBLIC_GLOBAL_KEYS.has(key)));
    }
    if (!this.session) return undefined;
    if (domain === BATTERY_DOMAIN) return batteryDomain(this.phone);
    if (domain === DISK_USAGE_DOMAIN) return diskUsageDomain();
    return undefined;
  }

  private setValue(request: PlistDict): Promise<void> {
    const key = optionalString(request, 'Key');
    const value = request.Value;
    if (!this.session) return this.error('SetValue', 'SessionInactive');
    if (
      optionalString(request, 'Domain') === undefined &&
      key === 'DeviceName' &&
      typeof value === 'string'
    ) {
      lockdownStateOf(this.phone).deviceName = value;
      return this.reply('SetValue');
    }
    return this.error('SetValue', 'SetProhibited');
  }

  private async pair(request: PlistDict): Promise<void> {
    if (this.options.pairing === 'pending') return this.error('Pair', 'PairingDialogResponsePending');
    if (this.options.pairing === 'deny') return this.error('Pair', 'UserDeniedPairing');
    const record = optionalDict(request, 'PairRecord');
    if (!record) return this.error('Pair', 'InvalidPairRecord');
    const outcome = await this.pairing.pair(record);
    if (!outcome.ok) {
      this.phone.note('pair-refused', { reason: outcome.reason });
      return this.error('Pair', outcome.error);
    }
    this.phone.note('paired', { hostId: outcome.host.hostId });
    return this.reply('Pair', { EscrowBag: outcome.host.escrowBag });
  }

  private validatePair(request: PlistDict): Promise<void> {
    const record = optionalDict(request, 'PairRecord');
    if (!record) return this.error('ValidatePair', 'InvalidPairRecord');
    const outcome = this.pairing.validate(record);
    return outcome.ok ? this.reply('ValidatePair') : this.error('ValidatePair', outcome.error);
  }

  private unpair(request: PlistDict): Promise<void> {
    const record = optionalDict(request, 'PairRecord');
    const hostId = record ? optionalString(record, 'HostID') : undefined;
    if (!hostId) return this.error('Unpair', 'MissingHostID');
    if (!this.pairing.unpair(hostId)) return this.error('Unpair', 'InvalidHostID');
    return this.reply('Unpair');
  }

  private async startSession(request: PlistDict): Promise<void> {
    const hostId = optionalString(request, 'HostID');
    if (!hostId) return this.error('StartSession', 'MissingHostID');
    const host = this.pairing.host(hostId);
    if (!host) return this.error('StartSession', 'InvalidHostID');
    if (this.session) return this.error('StartSession', 'SessionActive');
    const session: Session = { id: randomUUID().toUpperCase(), host };
    const tls = await this.pairing.tlsOptions(host);
    this.session = session;
    await this.connection.sendThenStartTls(
      { Request: 'StartSession', SessionID: session.id, EnableSessionSSL: true },
      tls,
    );
  }

  private async stopSession(request: PlistDict): Promise<void> {
    const sessionId = optionalString(request, 'SessionID');
    if (!this.session) return this.error('StopSession', 'SessionInactive');
    if (sessionId !== this.session.id) return this.error('StopSession', 'InvalidSessionID');
    await this.reply('StopSession');
    this.session = undefined;
    this.connection.stopTls();
  }

  private async startService(request: PlistDict): Promise<void> {
    const service = optionalString(request, 'Service');
    if (!service) return this.error('StartService', 'MissingService');
    const session = this.session;
    if (!session) return this.error('StartService', 'SessionInactive');
    if (service !== DIAGNOSTICS_RELAY_SERVICE) return this.error('StartService', 'InvalidService');
    const tls = await this.pairing.tlsOptions(session.host);
    const ports = this.device.ports;
    // A service port takes one connection, then closes (the host got its descriptor from us).
    const port = ports.listenDynamic(
      (channel) => {
        ports.unlisten(port);
        serveDiagnosticsRelay(channel, this.phone, tls, {
          restart: () => this.phone.reboot('ios', this.options.bootMs, 'diagnostics Restart'),
          shutdown: () => this.phone.powerOff(),
        });
      },
      (first, lastExclusive) => this.phone.random.int(first, lastExclusive),
    );
    return this.reply('StartService', { Service: service, Port: port, EnableServiceSSL: true });
  }

  private async enterRecovery(): Promise<void> {
    await this.reply('EnterRecovery');
    this.phone.note('enter-recovery', {});
    // iOS sets auto-boot false before rebooting, so iBoot stays in recovery with the same ECID.
    this.phone.nvram.set('auto-boot', 'false');
    this.phone.reboot('iboot', this.options.enterRecoveryMs, 'EnterRecovery');
  }
}
