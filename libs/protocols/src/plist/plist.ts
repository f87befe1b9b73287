// Property lists, XML and binary (bplist00), through well-kept libraries behind one small API
// with input limits and typed errors:
// - XML: plist@4 (an ES module; Node >= 20.19 loads it with require). Integers beyond ±2^53
//   come back rounded, so decoders that can see them (restored's Status 0xFFFF_FFFF_FFFF_FFFF)
//   accept the rounded form; the writer keeps bigints exact. The plists peers send are read by
//   xml-plist-reader.ts instead (same values, 10–20× faster); it hands anything unusual back.
// - binary reading: bplist-parser@0.5 (8- and 16-byte integers exact, big ones as bigint;
//   0.3 truncated them to 32 bits).
// - binary writing: bplist-creator, which is only right for 32-bit integers; every peer we talk
//   to accepts XML, so binary is written only for small messages (FDR) and refused otherwise.
import * as bplistParser from 'bplist-parser';
import createBinaryPlist from 'bplist-creator';
import { build, parse } from 'plist';
import { ProtocolError } from '../errors';
import { NOT_HANDLED, readXmlPlist } from './xml-plist-reader';

export type PlistValue = string | number | bigint | boolean | Date | Uint8Array | PlistValue[] | PlistDict;
export interface PlistDict {
  [key: string]: PlistValue;
}

export class PlistError extends ProtocolError {
  constructor(message: string) {
    super(message, 'plist');
  }
}

export interface DecodeOptions {
  /** Inputs above this size are refused before parsing (default 64 MiB). */
  maxBytes?: number;
}

export const DEFAULT_MAX_PLIST_BYTES = 64 * 1024 * 1024;
const BINARY_MAGIC = 'bplist00';

export function isBinaryPlist(bytes: Uint8Array): boolean {
  return (
    bytes.length >= 8 && Buffer.from(bytes.buffer, bytes.byteOffset, 8).toString('latin1') === BINARY_MAGIC
  );
}

/** Decodes XML or binary (detected by the `bplist00` magic). */
export function decodePlist(bytes: Uint8Array, options: DecodeOptions = {}): PlistValue {
  const max = options.maxBytes ?? DEFAULT_MAX_PLIST_BYTES;
  if (bytes.length > max)
    throw new PlistError(`plist of ${bytes.length} bytes exceeds the ${max}-byte limit`);
  if (bytes.length === 0) throw new PlistError('empty plist');
  return isBinaryPlist(bytes) ? decodeBinary(bytes) : decodeXml(bytes);
}

/** Decodes and requires a dictionary at the top. */
export function decodePlistDict(bytes: Uint8Array, options?: DecodeOptions): PlistDict {
  const value = decodePlist(bytes, options);
  if (!isPlistDict(value))
    throw new PlistError(`expected a dictionary at the top of the plist, got ${describe(value)}`);
  return value;
}

export function encodePlistXml(value: PlistValue): Buffer {
  return Buffer.from(build(toLibraryValue(value, 'xml') as LibraryValue), 'utf8');
}

export function encodePlistBinary(value: PlistValue): Buffer {
  if (!isPlistDict(value) && !Array.isArray(value))
    throw new PlistError('a binary plist needs a dictionary or an array at the top');
  return createBinaryPlist(toLibraryValue(value, 'binary') as Record<string, unknown>);
}

type LibraryValue = Parameters<typeof build>[0];

export function isPlistDict(value: unknown): value is PlistDict {
  return (
    typeof value === 'object' &&
    value !== null &&
    !Array.isArray(value) &&
    !(value instanceof Uint8Array) &&
    !(value instanceof Date)
  );
}

function decodeXml(bytes: Uint8Array): PlistValue {
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('utf8');
  // Entity declarations are how XML bombs expand; plists never need them.
  if (/<!ENTITY/i.test(text)) throw new PlistError('XML plist declares entities; refused');
  if (!/<plist[\s>]/.test(text)) throw new PlistError('not a plist: no <plist> element');
  // The common shapes are read directly (fast); anything else by plist@4, as before.
  let value: unknown = readXmlPlist(text);
  if (value === NOT_HANDLED) {
    try {
      value = parse(text);
    } catch (error) {
      throw new PlistError(`malformed XML plist: ${firstLine(error)}`);
    }
  }
  return fromLibraryValue(value, 'XML');
}

function decodeBinary(bytes: Uint8Array): PlistValue {
  let roots: unknown;
  try {
    roots = bplistParser.parseBuffer(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length));
  } catch (error) {
    throw new PlistError(`malformed binary plist: ${firstLine(error)}`);
  }
  if (!Array.isArray(roots) || roots.length === 0)
    throw new PlistError('malformed binary plist: no root object');
  return fromLibraryValue(roots[0], 'binary');
}

/** Library values → ours: Buffer → Uint8Array view, reject what a plist cannot hold. */
function fromLibraryValue(value: unknown, kind: string, depth = 0): PlistValue {
  if (depth > 64) throw new PlistError(`${kind} plist nests deeper than 64 levels`);
  if (typeof value === 'string') return ownString(value);
  if (typeof value === 'boolean') return value;
  if (typeof value === 'number') {
    if (Number.isNaN(value)) throw new PlistError(`${kind} plist holds a number that is not a number`);
    return value;
  }
  if (typeof value === 'bigint') return value;
  // Realm-independent checks: the libraries may hand back Buffers and Dates from another
  // realm (Node core vs a test sandbox), where `instanceof` says no.
  if (Object.prototype.toString.call(value) === '[object Date]') {
    const date = new Date((value as Date).getTime());
    if (Number.isNaN(date.getTime())) throw new PlistError(`${kind} plist holds an invalid date`);
    return date;
  }
  if (ArrayBuffer.isView(value)) return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
  if (Array.isArray(value)) return value.map((item) => fromLibraryValue(item, kind, depth + 1));
  if (typeof value === 'object' && value !== null) {
    const out: PlistDict = {};
    for (const [key, item] of Object.entries(value)) out[key] = fromLibraryValue(item, kind, depth + 1);
    return out;
  }
  throw new PlistError(
    `${kind} plist holds an unsupported value (${value === null ? 'null' : typeof value})`,
  );
}

/**
 * The XML parser hands out substrings of the whole document, which V8 keeps as slices that pin
 * the entire text: one `udid` kept from a usbmuxd device list, or one `Path` from a 500 KB
 * BuildManifest, kept the whole document alive (tens of MB in an agent running 64 restores).
 * Strings shorter than V8's slice threshold (13) are copied anyway; longer ones are copied here
 * (concatenation, then slice, flattens into a fresh string of their own length).
 */
function ownString(text: string): string {
  return text.length < 13 ? text : (' ' + text).slice(1);
}

/** Ours → library values. XML keeps big integers exact; the binary writer takes numbers only. */
function toLibraryValue(value: PlistValue, format: 'xml' | 'binary'): unknown {
  // bplist-creator recognises <data> only as a Buffer.
  if (value instanceof Uint8Array)
    return format === 'binary' ? Buffer.from(value.buffer, value.byteOffset, value.length) : value;
  if (typeof value === 'bigint') {
    if (format === 'binary') return binaryInteger(Number(value), value);
    return value <= BigInt(Number.MAX_SAFE_INTEGER) && value >= BigInt(Number.MIN_SAFE_INTEGER)
      ? Number(value)
      : value;
  }
  if (typeof value === 'number' && format === 'binary' && Number.isInteger(value))
    return binaryInteger(value, value);
  if (Array.isArray(value)) return value.map((item) => toLibraryValue(item, format));
  if (value instanceof Date || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    if (item !== undefined) out[key] = toLibraryValue(item, format);
  }
  return out;
}

const INT32 = 2 ** 31;

function binaryInteger(n: number, original: number | bigint): number {
  if (n >= -INT32 && n < INT32) return n;
  throw new PlistError(
    `integer ${original} is outside the 32-bit range the binary plist writer handles; write XML`,
  );
}

function describe(value: PlistValue): string {
  if (Array.isArray(value)) return 'an array';
  if (value instanceof Uint8Array) return 'data';
  if (value instanceof Date) return 'a date';
  return `a ${typeof value}`;
}

function firstLine(error: unknown): string {
  return String(error instanceof Error ? error.message : error).split('\n')[0];
}
