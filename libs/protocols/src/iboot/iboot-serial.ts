// The iSerialNumber string of a device in DFU or recovery mode (restore-protocol.md §1.2):
// space-separated `TAG:VALUE` tokens, hex numbers, bracketed strings. Windows lower-cases the
// whole string, so tags and hex digits are read case-insensitively. Nonces live in a separate
// string (descriptor index 1) as ` NONC:<hex> SNON:<hex>`.
import { ProtocolError } from '../errors';

/** libirecovery's assumption when a serial carries no CPID: a first-generation (S5L8900) device. */
export const FIRST_GENERATION_CPID = 0x8900;

/** Longest serial/nonce string we accept: a USB string descriptor holds at most 126 characters. */
const MAX_STRING_LENGTH = 512;
/** 64 bytes of nonce is twice the longest seen (32); anything longer is garbage. */
const MAX_NONCE_HEX_DIGITS = 128;

export interface IBootSerial {
  /** Chip id (0x8015 = A11). `FIRST_GENERATION_CPID` when absent. */
  cpid: number;
  cprv?: number;
  /** Chip fuse mode: bit 0 security mode, bit 1 production mode. */
  cpfm?: number;
  scep?: number;
  sdom?: number;
  bdid?: number;
  ecid?: bigint;
  /** iBoot flags: bit 2 Image4-aware, bit 3 effective security mode, bit 4 effective production mode. */
  ibfl?: number;
  /** Port-controller revision (port DFU). */
  prev?: number;
  /** SecureROM tag (DFU), e.g. `iBoot-1992.0.0.1.19`. */
  srtg?: string;
  /** Device serial number (recovery). */
  srnm?: string;
  imei?: string;
  /** Present only on exploited devices, e.g. `checkm8`. */
  pwnd?: string;
  /** Some devices repeat the nonces in the serial; normally they are read from string 1. */
  apNonce?: Uint8Array;
  sepNonce?: Uint8Array;
}

export interface IBootNonces {
  apNonce?: Uint8Array;
  sepNonce?: Uint8Array;
}

const HEX_FIELDS = ['cpid', 'cprv', 'cpfm', 'scep', 'sdom', 'bdid', 'ibfl', 'prev'] as const;
type HexField = (typeof HEX_FIELDS)[number];
const STRING_FIELDS = ['srtg', 'srnm', 'imei', 'pwnd'] as const;
type StringField = (typeof STRING_FIELDS)[number];

/** Digits each hex field is printed with (as real devices do). */
const HEX_WIDTH: Record<HexField, number> = {
  cpid: 4,
  cprv: 2,
  cpfm: 2,
  scep: 2,
  sdom: 2,
  bdid: 2,
  ibfl: 2,
  prev: 4,
};

/** Token order on real devices: SDOM (newer iBoots) first, then the chip, the ECID, flags, tags. */
const FORMAT_ORDER = [
  'sdom',
  'cpid',
  'cprv',
  'cpfm',
  'scep',
  'bdid',
  'ecid',
  'ibfl',
  'prev',
  'srtg',
  'srnm',
  'imei',
  'pwnd',
] as const;

/** `TAG:value` or `TAG:[bracketed value]`. */
const TOKEN = /([A-Za-z]{4}):(\[[^\]]*\]|\S*)/g;

function tokens(text: string, what: string): Map<string, string> {
  if (text.length > MAX_STRING_LENGTH) {
    throw new ProtocolError(`${what} is ${text.length} characters long (limit ${MAX_STRING_LENGTH})`, what);
  }
  const found = new Map<string, string>();
  for (const match of text.matchAll(TOKEN)) {
    const tag = match[1].toLowerCase();
    // The first occurrence wins, as libirecovery's substring search does.
    if (!found.has(tag)) found.set(tag, match[2]);
  }
  return found;
}

function parseHexNumber(value: string, tag: string, what: string, maxDigits: number): bigint {
  if (!/^[0-9a-f]+$/i.test(value) || value.length > maxDigits) {
    throw new ProtocolError(`${what}: ${tag.toUpperCase()} '${value}' is not a hex number`, what);
  }
  return BigInt(`0x${value}`);
}

function parseHexBytes(value: string, tag: string, what: string): Buffer {
  if (value.length % 2 !== 0 || value.length > MAX_NONCE_HEX_DIGITS || !/^[0-9a-f]*$/i.test(value)) {
    throw new ProtocolError(
      `${what}: ${tag.toUpperCase()} '${value}' is not an even run of hex digits`,
      what,
    );
  }
  return Buffer.from(value, 'hex');
}

function unbracket(value: string): string {
  return value.startsWith('[') && value.endsWith(']') ? value.slice(1, -1) : value;
}

function readNonces(found: Map<string, string>, what: string): IBootNonces {
  const nonces: IBootNonces = {};
  const nonc = found.get('nonc');
  const snon = found.get('snon');
  if (nonc !== undefined) nonces.apNonce = parseHexBytes(nonc, 'nonc', what);
  if (snon !== undefined) nonces.sepNonce = parseHexBytes(snon, 'snon', what);
  return nonces;
}

export function parseIBootSerial(text: string): IBootSerial {
  const what = 'iBoot serial string';
  const found = tokens(text, what);
  const serial: IBootSerial = { cpid: FIRST_GENERATION_CPID };
  for (const field of HEX_FIELDS) {
    const value = found.get(field);
    if (value === undefined) continue;
    // BDID is read as 64-bit and truncated by libirecovery; we refuse what would not fit instead.
    serial[field] = Number(parseHexNumber(value, field, what, 8));
  }
  const ecid = found.get('ecid');
  if (ecid !== undefined) serial.ecid = parseHexNumber(ecid, 'ecid', what, 16);
  for (const field of STRING_FIELDS) {
    const value = found.get(field);
    if (value !== undefined) serial[field] = unbracket(value);
  }
  return { ...serial, ...readNonces(found, what) };
}

function hex(value: number | bigint, width: number): string {
  return value.toString(16).toUpperCase().padStart(width, '0');
}

function hexBytes(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('hex').toUpperCase();
}

/** The iSerialNumber string a device shows; nonces are appended only when the serial carries them. */
export function formatIBootSerial(serial: IBootSerial): string {
  const parts: string[] = [];
  for (const field of FORMAT_ORDER) {
    if (field === 'ecid') {
      if (serial.ecid !== undefined) parts.push(`ECID:${hex(serial.ecid, 16)}`);
      continue;
    }
    if ((STRING_FIELDS as readonly string[]).includes(field)) {
      const value = serial[field as StringField];
      if (value !== undefined) parts.push(`${field.toUpperCase()}:[${value}]`);
      continue;
    }
    const value = serial[field as HexField];
    if (value !== undefined) parts.push(`${field.toUpperCase()}:${hex(value, HEX_WIDTH[field as HexField])}`);
  }
  if (serial.apNonce) parts.push(`NONC:${hexBytes(serial.apNonce)}`);
  if (serial.sepNonce) parts.push(`SNON:${hexBytes(serial.sepNonce)}`);
  return parts.join(' ');
}

/** Reads string descriptor 1: ` NONC:<hex> SNON:<hex>` (either may be missing on old devices). */
export function parseIBootNonces(text: string): IBootNonces {
  return readNonces(tokens(text, 'iBoot nonce string'), 'iBoot nonce string');
}

/** String descriptor 1 as devices send it, with its leading space. */
export function formatIBootNonces(nonces: IBootNonces): string {
  let text = '';
  if (nonces.apNonce) text += ` NONC:${hexBytes(nonces.apNonce)}`;
  if (nonces.sepNonce) text += ` SNON:${hexBytes(nonces.sepNonce)}`;
  return text;
}

/** IBFL bit 2: the boot ROM / iBoot understands Image4. */
export function isImage4Aware(serial: Pick<IBootSerial, 'ibfl'>): boolean {
  return serial.ibfl !== undefined && (serial.ibfl & 0b100) !== 0;
}
