// The simulator's stand-in for Apple's signing: an IM4M with Apple's layout (MANP properties and a
// dictionary per image) whose "signature" is an HMAC-SHA384 over the signed body with a key only
// the simulator holds. The simulated phone checks every image it receives against such a ticket,
// exactly as a real phone would check Apple's: the ticket must be genuine, for this ECID, bound to
// the ApNonce the phone is showing now, and list the digest of the very bytes received.
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import {
  COMPONENT_TAGS,
  Img4Error,
  componentForTypeTag,
  decodeIm4m,
  encodeIm4m,
  parseImg4,
  type Im4m,
  type Img4PropertiesInput,
} from '@bench/protocols';

export interface SimTicketComponent {
  digest: Uint8Array;
  epro?: boolean;
  esec?: boolean;
}

export interface SimTicketInput {
  ecid: bigint;
  apNonce: Uint8Array;
  sepNonce?: Uint8Array;
  chipId: number;
  boardId: number;
  securityDomain: number;
  productionMode: boolean;
  securityMode: boolean;
  /** By BuildManifest component name; names without a known type tag are left out. */
  components: Record<string, SimTicketComponent>;
}

export type PersonalizationFailure =
  'not-img4' | 'bad-signature' | 'ecid-mismatch' | 'nonce-mismatch' | 'digest-mismatch' | 'tag-mismatch';

export type PersonalizationResult =
  | { ok: true; fourcc: string; component?: string }
  | { ok: false; reason: PersonalizationFailure; detail: string };

export type RootTicketResult =
  | { ok: true; ticket: Im4m }
  | {
      ok: false;
      reason: Extract<PersonalizationFailure, 'not-img4' | 'bad-signature' | 'ecid-mismatch'>;
      detail: string;
    };

export function issueSimTicket(input: SimTicketInput, key: Uint8Array): Buffer {
  const manp: Img4PropertiesInput = {
    BNCH: input.apNonce,
    BORD: input.boardId,
    CHIP: input.chipId,
    CPRO: input.productionMode,
    CSEC: input.securityMode,
    ECID: input.ecid,
    SDOM: input.securityDomain,
  };
  if (input.sepNonce) manp.snon = input.sepNonce;
  const images: Record<string, Img4PropertiesInput> = {};
  for (const [name, component] of Object.entries(input.components)) {
    const tag = COMPONENT_TAGS[name];
    if (tag === undefined || component.digest.length === 0) continue;
    images[tag] = {
      DGST: component.digest,
      EPRO: component.epro ?? input.productionMode,
      ESEC: component.esec ?? input.securityMode,
    };
  }
  return encodeIm4m({ manp, images, sign: (body) => sign(key, body) });
}

/** Checks a RootTicket (a bare IM4M) the way restored would before it installs it. */
export function verifyRootTicket(
  ticketBytes: Uint8Array,
  expected: { ecid: bigint; key: Uint8Array },
): RootTicketResult {
  let ticket: Im4m;
  try {
    ticket = decodeIm4m(ticketBytes);
  } catch (error) {
    return { ok: false, reason: 'not-img4', detail: describe(error) };
  }
  if (!signatureHolds(ticket, expected.key))
    return { ok: false, reason: 'bad-signature', detail: 'ticket signature does not verify' };
  if (ticket.manp.ECID !== expected.ecid) {
    return {
      ok: false,
      reason: 'ecid-mismatch',
      detail: `ticket is for ECID ${String(ticket.manp.ECID)}, device is ${expected.ecid}`,
    };
  }
  return { ok: true, ticket };
}

/**
 * Checks an uploaded IMG4 (iBSS, iBEC, ramdisk, device tree, kernel cache, NOR images …): the
 * ticket's signature, ECID and nonce, that the ticket lists the image's type tag (and that the tag
 * is the one expected at this point of the boot chain), and that the IM4P hashes to the digest
 * the ticket lists.
 */
export function verifyPersonalizedImage(
  img4Bytes: Uint8Array,
  expected: { ecid: bigint; apNonce: Uint8Array; key: Uint8Array; expectedFourcc?: string },
): PersonalizationResult {
  let fourcc: string;
  let im4pBytes: Uint8Array;
  let ticket: Im4m;
  try {
    const parts = parseImg4(img4Bytes);
    fourcc = parts.im4p.fourcc;
    im4pBytes = parts.im4pBytes;
    ticket = decodeIm4m(parts.im4mBytes);
  } catch (error) {
    return { ok: false, reason: 'not-img4', detail: describe(error) };
  }
  if (!signatureHolds(ticket, expected.key))
    return { ok: false, reason: 'bad-signature', detail: 'ticket signature does not verify' };
  if (ticket.manp.ECID !== expected.ecid) {
    return {
      ok: false,
      reason: 'ecid-mismatch',
      detail: `ticket is for ECID ${String(ticket.manp.ECID)}, device is ${expected.ecid}`,
    };
  }
  const nonce = ticket.manp.BNCH;
  if (!(nonce instanceof Uint8Array) || !Buffer.from(nonce).equals(Buffer.from(expected.apNonce))) {
    return { ok: false, reason: 'nonce-mismatch', detail: 'ticket is bound to another ApNonce' };
  }
  if (expected.expectedFourcc !== undefined && fourcc !== expected.expectedFourcc) {
    return {
      ok: false,
      reason: 'tag-mismatch',
      detail: `image is '${fourcc}', expected '${expected.expectedFourcc}'`,
    };
  }
  const entry = ticket.images[fourcc];
  const digest = entry?.DGST;
  if (!(digest instanceof Uint8Array)) {
    return { ok: false, reason: 'tag-mismatch', detail: `ticket does not list an image '${fourcc}'` };
  }
  const actual = digestFor(digest.length, im4pBytes);
  if (!actual || !actual.equals(Buffer.from(digest))) {
    return {
      ok: false,
      reason: 'digest-mismatch',
      detail: `'${fourcc}' does not hash to the digest the ticket lists`,
    };
  }
  return { ok: true, fourcc, component: componentForTypeTag(fourcc) };
}

function sign(key: Uint8Array, body: Uint8Array): Buffer {
  return createHmac('sha384', key).update(body).digest();
}

function signatureHolds(ticket: Im4m, key: Uint8Array): boolean {
  const expected = sign(key, ticket.signedBytes);
  const given = Buffer.from(ticket.signature);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** Manifests use SHA-1 (20 bytes) on old devices and SHA-384 (48) on every Image4 iPhone since. */
function digestFor(length: number, bytes: Uint8Array): Buffer | undefined {
  const algorithm = length === 20 ? 'sha1' : length === 32 ? 'sha256' : length === 48 ? 'sha384' : undefined;
  return algorithm ? createHash(algorithm).update(bytes).digest() : undefined;
}

function describe(error: unknown): string {
  return error instanceof Img4Error || error instanceof Error ? error.message : String(error);
}
