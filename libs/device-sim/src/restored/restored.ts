// restored on device port 62078 while the phone runs the restore ramdisk, with FDR on 1082 and
// ASR on 12345 (opened when the filesystem is asked for). The probe answers are what Debian's
// idevicerestore 1.0.0 needs to detect and identify the phone (idevicerestore-1.0.0-restore-mode.md
// §1.2–1.3): QueryType with an integer RestoreProtocolVersion, SerialNumber and an upper-case
// HardwareModel; QueryValue HardwareInfo under the key `HardwareInfo` with an integer
// UniqueChipID and SupportsImage4 true; Goodbye answered with Result Success. Connections a host
// opens and leaves idle are simply kept.
import type { Duplex } from 'node:stream';
import {
  FDR_PORT,
  RESTORED_PORT,
  RESTORED_SERVICE_TYPE,
  optionalDict,
  optionalString,
  type PlistDict,
} from '@bench/protocols';
import { FdrControlService } from '../fdr/fdr-service';
import type { SimPhone } from '../phone/sim-phone';
import type { MuxDevice, UsbmuxPersonality } from '../usbmux/mux-device';
import { PlistServiceConnection } from '../usbmux/plist-service-connection';
import { RestoreSession, restoreMemoryOf, type RestoreDataRequests } from './restore-session';
import {
  DEFAULT_HOST_WAITS,
  REALISTIC_RESTORE_TIMINGS,
  type RestoreHostWaits,
  type RestoreTimings,
} from './restore-timings';
import { idevicerestoreCompatVerifier, type InstalledBuild, type RestoreVerifier } from './restore-verifier';

export const RESTORE_PROTOCOL_VERSION = 14;

export interface RestoredOptions {
  /**
   * How the phone checks tickets, components and the filesystem. Default: the idevicerestore
   * `-R -T` compatibility strategy without a filesystem content check; the bench passes a strict
   * one (simulated TSS key, synthetic OS image) for its own engine.
   */
  verifier?: RestoreVerifier | ((phone: SimPhone) => RestoreVerifier);
  timings?: Partial<RestoreTimings>;
  hostWaits?: Partial<RestoreHostWaits>;
  /** Optional DataRequests (all on by default; the IPSW must then carry those components). */
  requests?: Partial<RestoreDataRequests>;
  restoreProtocolVersion?: number;
  asrChecksumChunks?: boolean;
  asrOobReads?: number;
  /**
   * What the phone runs after the restore. Default: what the filesystem verifier says the image
   * installs (synthetic OS images carry their build); without either the version stays as it was.
   */
  installedBuild?: (phone: SimPhone) => InstalledBuild | undefined;
}

const DEFAULT_REQUESTS: RestoreDataRequests = {
  KernelCache: true,
  DeviceTree: true,
  NORData: true,
  FDRTrustData: true,
};

export class RestoredPersonality implements UsbmuxPersonality {
  constructor(private readonly options: RestoredOptions = {}) {}

  attach(device: MuxDevice): void {
    const restoreMode = new RestoreModeDevice(device, this.options);
    device.ports.listen(RESTORED_PORT, (channel) => restoreMode.acceptRestored(channel));
    device.ports.listen(FDR_PORT, (channel) => restoreMode.fdr.accept(channel));
  }
}

/** restored's state for one boot of the restore ramdisk: at most one restore runs in it. */
class RestoreModeDevice {
  readonly fdr = new FdrControlService();
  private session?: { restore: RestoreSession; connection: PlistServiceConnection };
  private readonly phone: SimPhone;

  constructor(
    private readonly device: MuxDevice,
    private readonly options: RestoredOptions,
  ) {
    this.phone = device.phone;
    device.detached.addEventListener('abort', () => this.fdr.closeAll(), { once: true });
  }

  private get protocolVersion(): number {
    return this.options.restoreProtocolVersion ?? RESTORE_PROTOCOL_VERSION;
  }

  acceptRestored(channel: Duplex): void {
    const connection: PlistServiceConnection = new PlistServiceConnection(channel, {
      name: 'restored',
      // Unreadable input (oversized frame, broken plist, a mistyped field) gets an `Error` reply
      // like the unknown request below, then the connection closes; mid-restore that is a host
      // gone, so the phone falls back to recovery.
      malformedReply: () => ({ Error: 'InvalidRequest' }),
      onClose: () => {
        if (this.session?.connection === connection)
          this.session.restore.onHostGone('the host closed the restore connection');
      },
    });
    connection.start((request) => this.handle(connection, request));
  }

  private async handle(connection: PlistServiceConnection, request: PlistDict): Promise<void> {
    const name = optionalString(request, 'Request');
    const session = this.session;
    if (session && session.connection === connection && name === undefined) {
      return session.restore.hostMessage(request);
    }
    switch (name) {
      case 'QueryType':
        return connection.send(this.queryType());
      case 'QueryValue':
        return connection.send(this.queryValue(optionalString(request, 'QueryKey')));
      case 'Goodbye':
        return connection.send({ Result: 'Success' });
      case 'StartRestore':
        return this.startRestore(connection, request);
      case 'Reboot':
        await connection.send({ Result: 'Success' });
        this.phone.nvram.set('auto-boot', 'false');
        this.phone.reboot('iboot', this.timings.interruptedRebootMs, 'restored Reboot');
        return;
      default:
        return connection.send({ Error: 'UnknownRequest', Request: name ?? '' });
    }
  }

  private get timings(): RestoreTimings {
    return { ...REALISTIC_RESTORE_TIMINGS, ...this.options.timings };
  }

  private queryType(): PlistDict {
    const { identity } = this.phone;
    return {
      Type: RESTORED_SERVICE_TYPE,
      RestoreProtocolVersion: this.protocolVersion,
      SerialNumber: identity.serialNumber,
      HardwareModel: identity.model.hardwareModel.toUpperCase(),
    };
  }

  private queryValue(key: string | undefined): PlistDict {
    const { identity } = this.phone;
    switch (key) {
      case 'HardwareInfo':
        return {
          HardwareInfo: {
            BoardID: identity.model.bdid,
            ChipID: identity.model.cpid,
            UniqueChipID: identity.ecid,
            ProductionMode: true,
            SecurityDomain: 1,
            SupportsImage4: true,
          },
        };
      case 'SavedDebugInfo': {
        const memory = restoreMemoryOf(this.phone);
        const info: PlistDict = {};
        if (memory.previousExitStatus) info.PreviousExitStatus = memory.previousExitStatus;
        return { SavedDebugInfo: info };
      }
      default:
        return { Error: 'MissingValue' };
    }
  }

  private async startRestore(connection: PlistServiceConnection, request: PlistDict): Promise<void> {
    if (this.session) return connection.send({ Error: 'RestoreInProgress' });
    const verifier =
      typeof this.options.verifier === 'function'
        ? this.options.verifier(this.phone)
        : (this.options.verifier ?? idevicerestoreCompatVerifier());
    const restore = new RestoreSession(
      this.device,
      connection,
      { closeFdr: () => this.fdr.closeAll() },
      {
        verifier,
        timings: this.timings,
        hostWaits: { ...DEFAULT_HOST_WAITS, ...this.options.hostWaits },
        requests: { ...DEFAULT_REQUESTS, ...this.options.requests },
        asrChecksumChunks: this.options.asrChecksumChunks ?? true,
        asrOobReads: this.options.asrOobReads ?? 3,
        installedBuild: this.options.installedBuild,
      },
      optionalDict(request, 'RestoreOptions') ?? {},
    );
    this.session = { restore, connection };
    this.phone.note('restore-started', { verifier: verifier.name });
    // The script runs on its own; the connection keeps delivering the host's replies to it.
    void restore.run();
  }
}
