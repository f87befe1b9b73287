// Personalization: one TSS ticket per ApNonce (the nonce changes across boot stages, so a new
// nonce means a new request, as idevicerestore does), and IMG4 images stitched from the IPSW's
// IM4P and that ticket. The last ticket is also the RootTicket restored asks for.
import type { Ecid } from '@bench/bench-domain';
import { ecidToBigInt, SigningRefusedError } from '@bench/bench-domain';
import type { BuildIdentity, OpenFirmware, TssClient } from '@bench/firmware';
import { requireComponent } from '@bench/firmware';
import { buildTssRequest, stitchImg4, type TssResponse } from '@bench/protocols';

export interface NonceSource {
  apNonce?: Uint8Array;
  sepNonce?: Uint8Array;
  /** CPFM bit 1 (production) and bit 0 (security); normal-mode phones are production + secure. */
  productionMode?: boolean;
  securityMode?: boolean;
}

export class Personalizer {
  private current?: { nonce: string; response: TssResponse };

  constructor(
    private readonly firmware: OpenFirmware,
    readonly identity: BuildIdentity,
    private readonly ecid: Ecid,
    private readonly tss: TssClient,
  ) {}

  /** The ticket for this nonce, asking TSS only when the nonce changed. */
  async ticketFor(device: NonceSource, signal?: AbortSignal): Promise<TssResponse> {
    const nonce = device.apNonce ? Buffer.from(device.apNonce).toString('hex') : 'none';
    if (this.current?.nonce === nonce) return this.current.response;
    const request = buildTssRequest(this.identity, {
      ApECID: ecidToBigInt(this.ecid),
      // restore mode gives no nonce; the RootTicket is then bound to the ECID only.
      ApNonce: device.apNonce ?? new Uint8Array(32),
      SepNonce: device.sepNonce,
      ApProductionMode: device.productionMode ?? true,
      ApSecurityMode: device.securityMode ?? true,
      ApChipID: this.identity.apChipId,
      ApBoardID: this.identity.apBoardId,
    });
    const response = await this.tss.requestTicket(request, { signal });
    this.current = { nonce, response };
    return response;
  }

  /** The ticket of the last request (what restored wants as RootTicket). */
  get lastTicket(): Uint8Array {
    if (!this.current) throw new SigningRefusedError('no TSS ticket was obtained before restore mode');
    return this.current.response.ticket;
  }

  /** The component's IM4P from the IPSW, stitched with the current ticket (tag renamed per §6.2). */
  async image(component: string): Promise<Buffer> {
    const entry = requireComponent(this.identity, component);
    const path = this.pathFor(component) ?? entry.path;
    if (!path) throw new Error(`component ${component} has no path in the build identity`);
    const im4p = await this.firmware.readMember(path);
    return stitchImg4({ im4p, im4m: this.lastTicket, component, typeTag: entry.payloadType });
  }

  hasComponent(component: string): boolean {
    return this.identity.components[component] !== undefined;
  }

  /** TSS may move a component (`Path` in its response entry); the manifest path otherwise. */
  private pathFor(component: string): string | undefined {
    const entry = this.current?.response.components[component];
    const path = entry?.Path;
    return typeof path === 'string' ? path : undefined;
  }
}
