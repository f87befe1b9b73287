// IM4P, the payload container an IPSW ships (restore-protocol §6.1):
// SEQUENCE { "IM4P", fourcc, description, OCTET STRING payload, [OCTET STRING keybags],
//            [SEQUENCE { INTEGER 1, INTEGER uncompressed-size }], [[0] SEQUENCE { "PAYP", SET }] }
import * as asn1js from 'asn1js';
import {
  Img4Error,
  TagClass,
  childrenOf,
  decodeDer,
  encodedBytes,
  expectIa5,
  expectInteger,
  expectOctets,
  expectSequence,
  headerLength,
  isTagged,
  toBuffer,
} from './der';
import { decodePropertySet, propertySet, type Img4Properties, type Img4PropertiesInput } from './properties';

export const IM4P_MAGIC = 'IM4P';

/** How the payload is packed; the device decompresses, the host never needs to (§6.4). */
export type Im4pPayloadFormat = 'lzss' | 'lzfse' | 'raw';

export interface Im4pCompression {
  /** 1 = LZFSE, the only algorithm seen in IM4Ps. */
  algorithm: number;
  uncompressedSize: number;
}

export interface Im4p {
  fourcc: string;
  description: string;
  /** A view into the decoded input. */
  payload: Uint8Array;
  keybags?: Uint8Array;
  compression?: Im4pCompression;
  /** The PAYP properties, when present. */
  properties?: Img4Properties;
  payloadFormat: Im4pPayloadFormat;
}

export interface Im4pInput {
  fourcc: string;
  description: string;
  payload: Uint8Array;
  keybags?: Uint8Array;
  compression?: Im4pCompression;
  properties?: Img4PropertiesInput;
}

export function decodeIm4p(bytes: Uint8Array): Im4p {
  return im4pFromBlock(decodeDer(bytes, 'IM4P'));
}

/** Decodes an IM4P from an already decoded element (IMG4 parsing reuses it). */
export function im4pFromBlock(block: asn1js.AsnType): Im4p {
  const fields = expectSequence(block, 'IM4P');
  const magic = expectIa5(fields[0], 'IM4P magic');
  if (magic !== IM4P_MAGIC)
    throw new Img4Error(`IM4P: wrong magic '${magic}', expected 'IM4P'`, 'IM4P magic');
  const fourcc = expectIa5(fields[1], 'IM4P type tag');
  if (fourcc.length !== 4)
    throw new Img4Error(`IM4P: type tag '${fourcc}' is not four characters`, 'IM4P type tag');
  const description = expectIa5(fields[2], 'IM4P description');
  const payload = expectOctets(fields[3], 'IM4P payload');
  const im4p: Im4p = { fourcc, description, payload, payloadFormat: detectPayloadFormat(payload) };
  for (const extra of fields.slice(4)) readOptionalField(im4p, extra);
  return im4p;
}

function readOptionalField(im4p: Im4p, field: asn1js.AsnType): void {
  if (field instanceof asn1js.OctetString && im4p.keybags === undefined && im4p.compression === undefined) {
    im4p.keybags = expectOctets(field, 'IM4P keybags');
    return;
  }
  if (field instanceof asn1js.Sequence && im4p.compression === undefined && im4p.properties === undefined) {
    const [algorithm, size, ...rest] = expectSequence(field, 'IM4P compression info');
    if (rest.length > 0)
      throw new Img4Error('IM4P compression info has extra fields', 'IM4P compression info');
    im4p.compression = {
      algorithm: safeNumber(
        expectInteger(algorithm, 'IM4P compression algorithm'),
        'IM4P compression algorithm',
      ),
      uncompressedSize: safeNumber(expectInteger(size, 'IM4P uncompressed size'), 'IM4P uncompressed size'),
    };
    return;
  }
  if (isTagged(field, TagClass.Context, 0) && field.idBlock.isConstructed && im4p.properties === undefined) {
    const [inner, ...rest] = childrenOf(field);
    if (rest.length > 0) throw new Img4Error('IM4P [0] must hold one PAYP SEQUENCE', 'IM4P properties');
    const [name, set, ...more] = expectSequence(inner, 'IM4P properties');
    if (expectIa5(name, 'IM4P properties name') !== 'PAYP' || more.length > 0) {
      throw new Img4Error("IM4P [0] must hold SEQUENCE { 'PAYP', SET }", 'IM4P properties');
    }
    im4p.properties = decodePropertySet(set, 'PAYP');
    return;
  }
  throw new Img4Error('IM4P has an unexpected field after the payload', 'IM4P');
}

function safeNumber(value: bigint, what: string): number {
  if (value < 0n || value > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new Img4Error(`${what} ${value} is out of range`, what);
  }
  return Number(value);
}

export function detectPayloadFormat(payload: Uint8Array): Im4pPayloadFormat {
  const head = toBuffer(payload.subarray(0, 8)).toString('latin1');
  if (head === 'complzss') return 'lzss';
  if (/^bvx[2n$-]/.test(head.slice(0, 4))) return 'lzfse';
  return 'raw';
}

export function encodeIm4p(input: Im4pInput): Buffer {
  if (!/^[\x20-\x7e]{4}$/.test(input.fourcc))
    throw new Img4Error(`'${input.fourcc}' is not a four-character code`);
  const value: asn1js.BaseBlock[] = [
    new asn1js.IA5String({ value: IM4P_MAGIC }),
    new asn1js.IA5String({ value: input.fourcc }),
    new asn1js.IA5String({ value: input.description }),
    new asn1js.OctetString({ valueHex: input.payload }),
  ];
  if (input.keybags) value.push(new asn1js.OctetString({ valueHex: input.keybags }));
  if (input.compression) {
    value.push(
      new asn1js.Sequence({
        value: [
          asn1js.Integer.fromBigInt(input.compression.algorithm),
          asn1js.Integer.fromBigInt(input.compression.uncompressedSize),
        ],
      }),
    );
  }
  if (input.properties) {
    value.push(
      new asn1js.Constructed({
        idBlock: { tagClass: TagClass.Context, tagNumber: 0 },
        value: [
          new asn1js.Sequence({
            value: [new asn1js.IA5String({ value: 'PAYP' }), propertySet(input.properties)],
          }),
        ],
      }),
    );
  }
  return Buffer.from(new asn1js.Sequence({ value }).toBER());
}

/**
 * Where the four type-tag bytes sit inside an encoded IM4P, so personalization can overwrite them
 * in place (the tag is always four bytes, so no length changes).
 */
export function im4pTypeTagOffset(bytes: Uint8Array): number {
  return typeTagOffset(decodeDer(bytes, 'IM4P'));
}

export function typeTagOffset(block: asn1js.AsnType): number {
  const fields = expectSequence(block, 'IM4P');
  const magic = expectIa5(fields[0], 'IM4P magic');
  if (magic !== IM4P_MAGIC)
    throw new Img4Error(`IM4P: wrong magic '${magic}', expected 'IM4P'`, 'IM4P magic');
  const tag = fields[1];
  if (expectIa5(tag, 'IM4P type tag').length !== 4) {
    throw new Img4Error('IM4P: type tag is not four characters', 'IM4P type tag');
  }
  return headerLength(block) + encodedBytes(fields[0]).length + headerLength(tag);
}
