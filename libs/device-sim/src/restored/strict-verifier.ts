// The strict strategy our own engine is held to: the RootTicket must be an IM4M signed by the
// simulated TSS for this ECID (and, when the bench says which ApNonce this boot chain was
// verified with, bound to it); every component must be an IMG4 stitched with that very ticket,
// listed in it with the digest of its bytes, and of the type restored expects.
import { COMPONENT_TAGS, decodeIm4m, isImg4, parseImg4 } from '@bench/protocols';
import { verifyPersonalizedImage, verifyRootTicket } from '../personalization/sim-ticket';
import type { SimPhone } from '../phone/sim-phone';
import { syntheticOsFilesystem } from './synthetic-os-verifier';
import {
  ACCEPTED,
  rejected,
  type FilesystemVerifier,
  type RestoreVerifier,
  type Verdict,
} from './restore-verifier';

export interface StrictVerifierOptions {
  /** The simulated TSS server's signing key. */
  key: Uint8Array;
  /**
   * The ApNonce the phone's boot chain was verified with (the iBoot personality remembers it).
   * When given, the RootTicket must be bound to it.
   */
  bootNonce?: (phone: SimPhone) => Uint8Array | undefined;
  /** Default: the synthetic OS image check (the image verifies itself from its header). */
  filesystem?: (size: number, phone: SimPhone) => FilesystemVerifier | undefined;
}

export function strictRestoreVerifier(options: StrictVerifierOptions): RestoreVerifier {
  const filesystem = options.filesystem ?? syntheticOsFilesystem();
  return {
    name: 'strict',
    rootTicket: (ticket, phone) => checkRootTicket(ticket, phone, options),
    component: (component, image, { phone, rootTicket }) =>
      checkComponent(component, image, phone, rootTicket, options.key),
    filesystem: (size, phone) => filesystem(size, phone),
  };
}

function checkRootTicket(ticket: Uint8Array, phone: SimPhone, options: StrictVerifierOptions): Verdict {
  if (ticket.length === 0) return rejected('no RootTicket was sent');
  const result = verifyRootTicket(ticket, { ecid: phone.identity.ecid, key: options.key });
  if (!result.ok) return rejected(`${result.reason}: ${result.detail}`);
  const expectedNonce = options.bootNonce?.(phone);
  const nonce = result.ticket.manp.BNCH;
  if (
    expectedNonce &&
    !(nonce instanceof Uint8Array && Buffer.from(nonce).equals(Buffer.from(expectedNonce)))
  ) {
    return rejected('nonce-mismatch: the RootTicket is bound to another ApNonce than this boot chain');
  }
  return ACCEPTED;
}

function checkComponent(
  component: string,
  image: Uint8Array,
  phone: SimPhone,
  rootTicket: Uint8Array,
  key: Uint8Array,
): Verdict {
  if (!isImg4(image)) return rejected(`${component || 'image'} is not personalized (no IMG4 container)`);
  let nonce: Uint8Array | undefined;
  try {
    const bnch = decodeIm4m(rootTicket).manp.BNCH;
    nonce = bnch instanceof Uint8Array ? bnch : undefined;
  } catch {
    return rejected('no valid RootTicket was accepted before this component');
  }
  if (!nonce) return rejected('the RootTicket carries no ApNonce');
  const result = verifyPersonalizedImage(image, {
    ecid: phone.identity.ecid,
    apNonce: nonce,
    key,
    expectedFourcc: component ? COMPONENT_TAGS[component] : undefined,
  });
  if (!result.ok) return rejected(`${result.reason}: ${result.detail}`);
  if (!Buffer.from(parseImg4(image).im4mBytes).equals(Buffer.from(rootTicket))) {
    return rejected('stitched with another ticket than the RootTicket');
  }
  return ACCEPTED;
}
