// DER reading and writing shared by the Image4 containers, on top of asn1js. asn1js parses; this
// file adds what Image4 needs on top: resource limits for untrusted input, strict DER (whole
// input consumed, no indefinite lengths), typed accessors that throw Img4Error naming the field,
// and a DER header writer for stitching already-encoded parts verbatim (asn1js cannot embed
// pre-encoded bytes inside a constructed value without re-encoding them).
import * as asn1js from 'asn1js';
import { ProtocolError } from '../errors';

/** Malformed or unexpected Image4 DER: wrong magic, missing field, bad length, trailing bytes. */
export class Img4Error extends ProtocolError {
  constructor(message: string, what = 'img4') {
    super(message, what);
  }
}

/** Image4 objects nest a handful of levels; a manifest holds a few hundred properties. */
const MAX_DEPTH = 32;
const MAX_NODES = 100_000;

export const TagClass = { Universal: 1, Application: 2, Context: 3, Private: 4 } as const;

/**
 * Decodes exactly one DER element spanning all of `bytes`. Values returned by asn1js are views
 * into `bytes` (no copy), so payloads of hundreds of MB cost no extra memory.
 */
export function decodeDer(bytes: Uint8Array, what: string): asn1js.AsnType {
  if (bytes.length === 0) throw new Img4Error(`${what}: empty input`, what);
  let decoded: asn1js.FromBerResult;
  try {
    decoded = asn1js.fromBER(bytes, {
      maxDepth: MAX_DEPTH,
      maxNodes: MAX_NODES,
      maxContentLength: bytes.length,
      parseEmbedded: false,
      copyInput: false,
    });
  } catch (error) {
    throw new Img4Error(
      `${what}: malformed DER (${error instanceof Error ? error.message : String(error)})`,
      what,
    );
  }
  if (decoded.offset === -1) {
    throw new Img4Error(`${what}: malformed DER (${decoded.result.error || 'undecodable'})`, what);
  }
  if (decoded.offset !== bytes.length) {
    throw new Img4Error(
      `${what}: ${bytes.length - decoded.offset} trailing bytes after the DER element`,
      what,
    );
  }
  rejectIndefiniteLengths(decoded.result, what);
  return decoded.result;
}

function rejectIndefiniteLengths(block: asn1js.AsnType, what: string): void {
  if (block.lenBlock.isIndefiniteForm) throw new Img4Error(`${what}: indefinite length is not DER`, what);
  if (block.idBlock.isConstructed) {
    for (const child of childrenOf(block)) rejectIndefiniteLengths(child, what);
  }
}

/** The elements of a constructed block (SEQUENCE, SET, tagged). */
export function childrenOf(block: asn1js.AsnType): asn1js.AsnType[] {
  const value: unknown = (block.valueBlock as { value?: unknown }).value;
  return Array.isArray(value) ? (value as asn1js.AsnType[]) : [];
}

export function expectSequence(block: asn1js.AsnType | undefined, what: string): asn1js.AsnType[] {
  if (!(block instanceof asn1js.Sequence)) throw new Img4Error(`${what}: expected a SEQUENCE`, what);
  return childrenOf(block);
}

export function expectSet(block: asn1js.AsnType | undefined, what: string): asn1js.AsnType[] {
  if (!(block instanceof asn1js.Set)) throw new Img4Error(`${what}: expected a SET`, what);
  return childrenOf(block);
}

export function expectIa5(block: asn1js.AsnType | undefined, what: string): string {
  if (!(block instanceof asn1js.IA5String)) throw new Img4Error(`${what}: expected an IA5String`, what);
  return block.getValue();
}

export function expectOctets(block: asn1js.AsnType | undefined, what: string): Uint8Array {
  if (!(block instanceof asn1js.OctetString) || block.idBlock.isConstructed) {
    throw new Img4Error(`${what}: expected an OCTET STRING`, what);
  }
  return block.valueBlock.valueHexView;
}

export function expectInteger(block: asn1js.AsnType | undefined, what: string): bigint {
  if (!(block instanceof asn1js.Integer)) throw new Img4Error(`${what}: expected an INTEGER`, what);
  return block.toBigInt();
}

/** The encoded bytes of a decoded element (a view into the input). */
export function encodedBytes(block: asn1js.AsnType): Uint8Array {
  return block.valueBeforeDecodeView;
}

/** Length of the identifier + length octets of a decoded element. */
export function headerLength(block: asn1js.AsnType): number {
  return block.idBlock.blockLength + block.lenBlock.blockLength;
}

export function isTagged(block: asn1js.AsnType, tagClass: number, tagNumber: number): boolean {
  return block.idBlock.tagClass === tagClass && block.idBlock.tagNumber === tagNumber;
}

/**
 * The identifier and length octets of a DER element with a one-byte identifier (`0x30` SEQUENCE,
 * `0xA0`/`0xA1` context [0]/[1] constructed), short or long length form.
 */
export function encodeDerHeader(identifier: number, length: number): Buffer {
  if (!Number.isSafeInteger(length) || length < 0) throw new Img4Error(`cannot encode DER length ${length}`);
  if (length < 0x80) return Buffer.from([identifier, length]);
  const octets: number[] = [];
  for (let rest = length; rest > 0; rest = Math.floor(rest / 256)) octets.unshift(rest % 256);
  return Buffer.from([identifier, 0x80 | octets.length, ...octets]);
}

/** A four-character code as Image4 uses it for property tags: the ASCII bytes read big-endian. */
export function fourccToTagNumber(fourcc: string): number {
  if (!/^[\x20-\x7e]{4}$/.test(fourcc)) throw new Img4Error(`'${fourcc}' is not a four-character code`);
  return Buffer.from(fourcc, 'latin1').readUInt32BE(0);
}

export function tagNumberToFourcc(tagNumber: number): string {
  const bytes = Buffer.alloc(4);
  bytes.writeUInt32BE(tagNumber >>> 0, 0);
  return bytes.toString('latin1');
}

export function toBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
}
