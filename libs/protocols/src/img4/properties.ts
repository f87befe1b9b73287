// Image4 properties, as IM4M manifests (MANB/MANP and per-image dictionaries) and IM4R restore
// info carry them: each is a PRIVATE-class tag whose number is the fourcc read big-endian, wrapping
// SEQUENCE { IA5String fourcc, value }. A value is an INTEGER, OCTET STRING, BOOLEAN, IA5String,
// or a SET of further properties (a nested dictionary).
import * as asn1js from 'asn1js';
import {
  Img4Error,
  TagClass,
  childrenOf,
  expectIa5,
  expectSequence,
  fourccToTagNumber,
  tagNumberToFourcc,
} from './der';

export type Img4PropertyValue = bigint | boolean | string | Uint8Array | Img4Properties;
export interface Img4Properties {
  [fourcc: string]: Img4PropertyValue;
}
/** What callers may pass when encoding (plain numbers are accepted for integers). */
export type Img4PropertyInput = number | bigint | boolean | string | Uint8Array | Img4PropertiesInput;
export interface Img4PropertiesInput {
  [fourcc: string]: Img4PropertyInput | undefined;
}

export function isImg4Properties(value: unknown): value is Img4Properties {
  return (
    typeof value === 'object' && value !== null && !(value instanceof Uint8Array) && !Array.isArray(value)
  );
}

/** asn1js blocks for `properties`, sorted by tag number as DER orders a SET. */
export function propertyBlocks(properties: Img4PropertiesInput): asn1js.Constructed[] {
  return Object.entries(properties)
    .filter((entry): entry is [string, Img4PropertyInput] => entry[1] !== undefined)
    .map(([fourcc, value]) => ({ tag: fourccToTagNumber(fourcc), fourcc, value }))
    .sort((a, b) => a.tag - b.tag)
    .map(
      ({ tag, fourcc, value }) =>
        new asn1js.Constructed({
          idBlock: { tagClass: TagClass.Private, tagNumber: tag },
          value: [
            new asn1js.Sequence({ value: [new asn1js.IA5String({ value: fourcc }), valueBlock(value)] }),
          ],
        }),
    );
}

export function propertySet(properties: Img4PropertiesInput): asn1js.Set {
  return new asn1js.Set({ value: propertyBlocks(properties) });
}

function valueBlock(value: Img4PropertyInput): asn1js.BaseBlock {
  if (typeof value === 'bigint' || typeof value === 'number') {
    if (typeof value === 'number' && !Number.isSafeInteger(value)) {
      throw new Img4Error(`Image4 integer property ${value} is not a safe integer; pass a bigint`);
    }
    return asn1js.Integer.fromBigInt(value);
  }
  if (typeof value === 'boolean') return new asn1js.Boolean({ value });
  if (typeof value === 'string') return new asn1js.IA5String({ value });
  if (value instanceof Uint8Array) return new asn1js.OctetString({ valueHex: value });
  return propertySet(value);
}

/** Decodes the properties inside a SET block (`what` names the set in errors). */
export function decodePropertySet(setBlock: asn1js.AsnType | undefined, what: string): Img4Properties {
  if (!(setBlock instanceof asn1js.Set)) throw new Img4Error(`${what}: expected a SET of properties`, what);
  const out: Img4Properties = {};
  for (const element of childrenOf(setBlock)) {
    const { fourcc, value } = decodeProperty(element, what);
    if (Object.prototype.hasOwnProperty.call(out, fourcc)) {
      throw new Img4Error(`${what}: property '${fourcc}' appears twice`, what);
    }
    out[fourcc] = value;
  }
  return out;
}

export function decodeProperty(
  element: asn1js.AsnType,
  what: string,
): { fourcc: string; value: Img4PropertyValue } {
  if (element.idBlock.tagClass !== TagClass.Private || !element.idBlock.isConstructed) {
    throw new Img4Error(`${what}: expected a private-tagged property`, what);
  }
  const inner = childrenOf(element);
  if (inner.length !== 1) throw new Img4Error(`${what}: a property tag must wrap exactly one SEQUENCE`, what);
  const [nameBlock, valueElement, ...extra] = expectSequence(inner[0], `${what} property`);
  const fourcc = expectIa5(nameBlock, `${what} property name`);
  if (tagNumberToFourcc(element.idBlock.tagNumber) !== fourcc) {
    throw new Img4Error(`${what}: property '${fourcc}' is under a tag that names something else`, what);
  }
  if (valueElement === undefined || extra.length > 0) {
    throw new Img4Error(`${what}: property '${fourcc}' must hold exactly one value`, what);
  }
  return { fourcc, value: decodeValue(valueElement, `${what}.${fourcc}`) };
}

function decodeValue(block: asn1js.AsnType, what: string): Img4PropertyValue {
  if (block instanceof asn1js.Integer) return block.toBigInt();
  if (block instanceof asn1js.Boolean) return block.getValue();
  if (block instanceof asn1js.IA5String) return block.getValue();
  if (block instanceof asn1js.OctetString && !block.idBlock.isConstructed)
    return block.valueBlock.valueHexView;
  if (block instanceof asn1js.Set) return decodePropertySet(block, what);
  throw new Img4Error(`${what}: unsupported property value type`, what);
}
