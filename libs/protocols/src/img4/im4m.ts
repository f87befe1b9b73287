// IM4M, the Image4 manifest (the ApImg4Ticket a TSS server returns):
// SEQUENCE { "IM4M", INTEGER 0, SET { [MANB] { "MANB", SET { [MANP] { "MANP", SET {properties} },
//            [<fourcc>] { <fourcc>, SET {DGST, EPRO, ESEC, …} }, … } } }, OCTET STRING signature,
//            [SEQUENCE certificate chain] }
// The first two fields are confirmed by the protocol notes; the body layout follows Apple's
// tickets as public tools describe them. bench never alters a real ticket: personalization copies
// it verbatim, and this decoder only reads it (nonce and ECID checks, the simulator's verifier).
import * as asn1js from 'asn1js';
import {
  Img4Error,
  decodeDer,
  encodeDerHeader,
  encodedBytes,
  expectIa5,
  expectInteger,
  expectOctets,
  expectSequence,
  toBuffer,
} from './der';
import {
  decodePropertySet,
  isImg4Properties,
  propertySet,
  type Img4Properties,
  type Img4PropertiesInput,
} from './properties';

export const IM4M_MAGIC = 'IM4M';

export interface Im4m {
  version: bigint;
  /** Manifest properties (MANP): ECID, BNCH (the ApNonce it is bound to), CHIP, BORD, SDOM, … */
  manp: Img4Properties;
  /** Per-image dictionaries keyed by fourcc (`ibss`, `rkrn`, …): DGST, EPRO, ESEC, … */
  images: Record<string, Img4Properties>;
  /** The DER bytes the signature covers: the SET holding MANB. */
  signedBytes: Uint8Array;
  signature: Uint8Array;
  /** The DER of the certificate chain, when present. */
  certificates?: Uint8Array;
}

export interface Im4mInput {
  manp: Img4PropertiesInput;
  images: Record<string, Img4PropertiesInput>;
  /** Signs the DER bytes of the MANB set (a real ticket: Apple's key; the simulator: an HMAC). */
  sign: (signedBytes: Buffer) => Uint8Array;
  certificates?: Uint8Array;
}

export function decodeIm4m(bytes: Uint8Array): Im4m {
  const fields = expectSequence(decodeDer(bytes, 'IM4M'), 'IM4M');
  const magic = expectIa5(fields[0], 'IM4M magic');
  if (magic !== IM4M_MAGIC)
    throw new Img4Error(`IM4M: wrong magic '${magic}', expected 'IM4M'`, 'IM4M magic');
  const version = expectInteger(fields[1], 'IM4M version');
  const bodySet = fields[2];
  const body = decodePropertySet(bodySet, 'IM4M body');
  const manb = body.MANB;
  if (!isImg4Properties(manb)) throw new Img4Error('IM4M body lacks the MANB dictionary', 'MANB');
  const manp = manb.MANP;
  if (!isImg4Properties(manp)) throw new Img4Error('IM4M MANB lacks the MANP dictionary', 'MANP');
  const images: Record<string, Img4Properties> = {};
  for (const [fourcc, value] of Object.entries(manb)) {
    if (fourcc === 'MANP') continue;
    if (!isImg4Properties(value))
      throw new Img4Error(`IM4M image entry '${fourcc}' is not a dictionary`, fourcc);
    images[fourcc] = value;
  }
  const signature = expectOctets(fields[3], 'IM4M signature');
  if (fields.length > 5) throw new Img4Error('IM4M has unexpected fields after the certificates', 'IM4M');
  const certificates = fields[4] === undefined ? undefined : encodedBytes(fields[4]);
  if (fields[4] !== undefined && !(fields[4] instanceof asn1js.Sequence)) {
    throw new Img4Error('IM4M certificate chain must be a SEQUENCE', 'IM4M certificates');
  }
  return {
    version,
    manp,
    images,
    signedBytes: encodedBytes(bodySet as asn1js.AsnType),
    signature,
    certificates,
  };
}

export function encodeIm4m(input: Im4mInput): Buffer {
  const body = propertySet({ MANB: { MANP: input.manp, ...input.images } });
  const signedBytes = Buffer.from(body.toBER());
  const signature = input.sign(signedBytes);
  const parts: Buffer[] = [
    Buffer.from(new asn1js.IA5String({ value: IM4M_MAGIC }).toBER()),
    Buffer.from(asn1js.Integer.fromBigInt(0).toBER()),
    signedBytes,
    Buffer.from(new asn1js.OctetString({ valueHex: signature }).toBER()),
  ];
  if (input.certificates) {
    // Verbatim: a certificate chain is never re-encoded.
    expectSequence(decodeDer(input.certificates, 'IM4M certificates'), 'IM4M certificates');
    parts.push(toBuffer(input.certificates));
  }
  return sequenceOf(parts);
}

function sequenceOf(parts: Buffer[]): Buffer {
  const content = Buffer.concat(parts);
  return Buffer.concat([encodeDerHeader(0x30, content.length), content]);
}
