// IMG4, what is uploaded to iBoot or sent to restored (restore-protocol §6.1):
// SEQUENCE { "IMG4", <IM4P verbatim>, [0] { <IM4M verbatim> }, [1] { <IM4R> } optional }.
// Stitching copies the IM4P and the ticket byte for byte (only the IM4P type tag may be
// overwritten in place, §6.2), so the outer headers are written here rather than re-encoded.
import * as asn1js from 'asn1js';
import {
  Img4Error,
  TagClass,
  childrenOf,
  decodeDer,
  encodeDerHeader,
  encodedBytes,
  expectIa5,
  expectSequence,
  isTagged,
  toBuffer,
} from './der';
import { personalizedTypeTag } from './component-tags';
import { im4pFromBlock, typeTagOffset, type Im4p } from './im4p';
import { IM4M_MAGIC } from './im4m';
import { IM4R_MAGIC } from './im4r';

export const IMG4_MAGIC = 'IMG4';

export interface StitchImg4Input {
  /** The IM4P as stored in the IPSW. */
  im4p: Uint8Array;
  /** The ApImg4Ticket from TSS (DER IM4M), copied verbatim. */
  im4m: Uint8Array;
  im4r?: Uint8Array;
  /** The BuildManifest component this image is for (decides the §6.2 tag renaming). */
  component?: string;
  /** Overrides the tag, e.g. from `Info.Img4PayloadType`. */
  typeTag?: string;
}

export interface Img4Parts {
  im4p: Im4p;
  /** Views into the input. */
  im4pBytes: Uint8Array;
  im4mBytes: Uint8Array;
  im4rBytes?: Uint8Array;
}

export function stitchImg4(input: StitchImg4Input): Buffer {
  const im4p = withTypeTag(input.im4p, input.typeTag ?? personalizedTypeTag(input.component ?? ''));
  requireMagic(input.im4m, IM4M_MAGIC, 'IM4M');
  if (input.im4r) requireMagic(input.im4r, IM4R_MAGIC, 'IM4R');
  const parts: Buffer[] = [
    Buffer.from(new asn1js.IA5String({ value: IMG4_MAGIC }).toBER()),
    im4p,
    encodeDerHeader(0xa0, input.im4m.length),
    toBuffer(input.im4m),
  ];
  if (input.im4r) parts.push(encodeDerHeader(0xa1, input.im4r.length), toBuffer(input.im4r));
  const length = parts.reduce((sum, part) => sum + part.length, 0);
  return Buffer.concat([encodeDerHeader(0x30, length), ...parts]);
}

/** A copy of the IM4P with its type tag replaced (or the input itself when unchanged). */
export function withTypeTag(im4p: Uint8Array, typeTag: string | undefined): Buffer {
  const block = decodeDer(im4p, 'IM4P');
  const offset = typeTagOffset(block);
  if (typeTag === undefined) return toBuffer(im4p);
  if (!/^[\x20-\x7e]{4}$/.test(typeTag)) throw new Img4Error(`'${typeTag}' is not a four-character type tag`);
  const copy = Buffer.from(im4p);
  copy.write(typeTag, offset, 4, 'latin1');
  return copy;
}

export function parseImg4(bytes: Uint8Array): Img4Parts {
  const fields = expectSequence(decodeDer(bytes, 'IMG4'), 'IMG4');
  const magic = expectIa5(fields[0], 'IMG4 magic');
  if (magic !== IMG4_MAGIC)
    throw new Img4Error(`IMG4: wrong magic '${magic}', expected 'IMG4'`, 'IMG4 magic');
  const im4pBlock = fields[1];
  if (im4pBlock === undefined) throw new Img4Error('IMG4 lacks its IM4P', 'IM4P');
  const im4p = im4pFromBlock(im4pBlock);
  const manifest = fields[2];
  if (manifest === undefined || !isTagged(manifest, TagClass.Context, 0) || !manifest.idBlock.isConstructed) {
    throw new Img4Error('IMG4 lacks the [0] IM4M ticket', 'IM4M');
  }
  const im4mBytes = singleWrapped(manifest, IM4M_MAGIC);
  let im4rBytes: Uint8Array | undefined;
  const restoreInfo = fields[3];
  if (restoreInfo !== undefined) {
    if (!isTagged(restoreInfo, TagClass.Context, 1) || !restoreInfo.idBlock.isConstructed) {
      throw new Img4Error('IMG4 has an unexpected field after the ticket (expected [1] IM4R)', 'IM4R');
    }
    im4rBytes = singleWrapped(restoreInfo, IM4R_MAGIC);
  }
  if (fields.length > 4) throw new Img4Error('IMG4 has unexpected trailing fields', 'IMG4');
  return { im4p, im4pBytes: encodedBytes(im4pBlock), im4mBytes, im4rBytes };
}

/** Whether bytes look like an IMG4 (cheap check before a full parse). */
export function isImg4(bytes: Uint8Array): boolean {
  try {
    const [magic] = expectSequence(decodeDer(bytes, 'IMG4'), 'IMG4');
    return expectIa5(magic, 'IMG4 magic') === IMG4_MAGIC;
  } catch {
    return false;
  }
}

function singleWrapped(tagged: asn1js.AsnType, magic: string): Uint8Array {
  const inner = childrenOf(tagged);
  if (inner.length !== 1)
    throw new Img4Error(`IMG4: the ${magic} wrapper must hold exactly one element`, magic);
  const [magicBlock] = expectSequence(inner[0], magic);
  const found = expectIa5(magicBlock, `${magic} magic`);
  if (found !== magic) throw new Img4Error(`${magic}: wrong magic '${found}'`, `${magic} magic`);
  return encodedBytes(inner[0]);
}

function requireMagic(bytes: Uint8Array, magic: string, what: string): void {
  const [magicBlock] = expectSequence(decodeDer(bytes, what), what);
  const found = expectIa5(magicBlock, `${what} magic`);
  if (found !== magic)
    throw new Img4Error(`${what}: wrong magic '${found}', expected '${magic}'`, `${what} magic`);
}
