// Typed errors of the firmware library. Each carries a bench failure class (design §6):
// a bad or unusable IPSW is `firmware-invalid`, a refused signature `signing-refused`, an
// unreachable catalog, download or signing server `host-setup` (the host's network or
// configuration, not the phone, needs attention).
import { FirmwareInvalidError, HostSetupError, type FailureEvidence } from '@bench/bench-domain';

/** No build identity in the IPSW fits the device: names the model and what the IPSW supports. */
export class BuildIdentityNotFoundError extends FirmwareInvalidError {
  constructor(
    message: string,
    readonly productType: string | undefined,
    readonly hardwareModel: string,
    readonly supported: readonly string[],
    evidence?: FailureEvidence,
  ) {
    super(message, evidence);
  }
}

/** A server we need (catalog, download, TSS) could not be reached or answered nonsense. */
export class FirmwareServiceError extends HostSetupError {}
