// IM4R, restore info stitched into some personalized images (restore-protocol §6.3):
// SEQUENCE { "IM4R", SET { private-tagged properties } } — e.g. `snid`/`anid` nonce slots,
// `ucon`/`ucer` for co-processors, or BNCN (the boot-nonce generator, 8 bytes byte-reversed).
import * as asn1js from 'asn1js';
import { Img4Error, decodeDer, expectIa5, expectSequence } from './der';
import { decodePropertySet, propertySet, type Img4Properties, type Img4PropertiesInput } from './properties';

export const IM4R_MAGIC = 'IM4R';

export function encodeIm4r(properties: Img4PropertiesInput): Buffer {
  return Buffer.from(
    new asn1js.Sequence({
      value: [new asn1js.IA5String({ value: IM4R_MAGIC }), propertySet(properties)],
    }).toBER(),
  );
}

export function decodeIm4r(bytes: Uint8Array): Img4Properties {
  const [magicBlock, set, ...rest] = expectSequence(decodeDer(bytes, 'IM4R'), 'IM4R');
  const magic = expectIa5(magicBlock, 'IM4R magic');
  if (magic !== IM4R_MAGIC)
    throw new Img4Error(`IM4R: wrong magic '${magic}', expected 'IM4R'`, 'IM4R magic');
  if (rest.length > 0) throw new Img4Error('IM4R has unexpected fields after its properties', 'IM4R');
  return decodePropertySet(set, 'IM4R');
}

/** The BNCN property value for a boot-nonce generator (stored byte-reversed, §6.3). */
export function bootNonceProperty(generator: bigint): Buffer {
  const bytes = Buffer.alloc(8);
  bytes.writeBigUInt64LE(BigInt.asUintN(64, generator), 0);
  return bytes;
}
