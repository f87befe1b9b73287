// Typed reads from decoded plist dictionaries: a missing or mistyped field is a ProtocolError
// naming the field, never an `undefined` that surfaces later.
import { ProtocolError } from '../errors';
import { isPlistDict, type PlistDict, type PlistValue } from './plist';

export function optionalString(dict: PlistDict, key: string): string | undefined {
  const value = dict[key];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw mistyped(key, 'a string', value);
  return value;
}

export function requireString(dict: PlistDict, key: string, what = 'message'): string {
  const value = optionalString(dict, key);
  if (value === undefined) throw missing(key, what);
  return value;
}

export function optionalInteger(dict: PlistDict, key: string): number | undefined {
  const value = dict[key];
  if (value === undefined) return undefined;
  if (typeof value === 'bigint') {
    if (value <= BigInt(Number.MAX_SAFE_INTEGER) && value >= BigInt(Number.MIN_SAFE_INTEGER))
      return Number(value);
    throw mistyped(key, 'an integer within ±2^53', value);
  }
  if (typeof value !== 'number' || !Number.isInteger(value)) throw mistyped(key, 'an integer', value);
  return value;
}

export function requireInteger(dict: PlistDict, key: string, what = 'message'): number {
  const value = optionalInteger(dict, key);
  if (value === undefined) throw missing(key, what);
  return value;
}

/** Integers that may exceed 2^53 (ECIDs, 0xFFFFFFFFFFFFFFFF status codes). */
export function optionalBigInteger(dict: PlistDict, key: string): bigint | undefined {
  const value = dict[key];
  if (value === undefined) return undefined;
  if (typeof value === 'bigint') return value;
  if (typeof value === 'number' && Number.isInteger(value)) return BigInt(value);
  throw mistyped(key, 'an integer', value);
}

export function optionalBoolean(dict: PlistDict, key: string): boolean | undefined {
  const value = dict[key];
  if (value === undefined) return undefined;
  if (typeof value !== 'boolean') throw mistyped(key, 'a boolean', value);
  return value;
}

export function optionalData(dict: PlistDict, key: string): Uint8Array | undefined {
  const value = dict[key];
  if (value === undefined) return undefined;
  if (!(value instanceof Uint8Array)) throw mistyped(key, 'data', value);
  return value;
}

export function optionalDict(dict: PlistDict, key: string): PlistDict | undefined {
  const value = dict[key];
  if (value === undefined) return undefined;
  if (!isPlistDict(value)) throw mistyped(key, 'a dictionary', value);
  return value;
}

export function requireDict(dict: PlistDict, key: string, what = 'message'): PlistDict {
  const value = optionalDict(dict, key);
  if (value === undefined) throw missing(key, what);
  return value;
}

export function optionalArray(dict: PlistDict, key: string): PlistValue[] | undefined {
  const value = dict[key];
  if (value === undefined) return undefined;
  if (!Array.isArray(value)) throw mistyped(key, 'an array', value);
  return value;
}

function missing(key: string, what: string): ProtocolError {
  return new ProtocolError(`${what} lacks the required key '${key}'`, key);
}

function mistyped(key: string, expected: string, value: PlistValue): ProtocolError {
  const actual = Array.isArray(value)
    ? 'an array'
    : value instanceof Uint8Array
      ? 'data'
      : value instanceof Date
        ? 'a date'
        : `${typeof value} ${JSON.stringify(typeof value === 'bigint' ? value.toString() : value).slice(0, 40)}`;
  return new ProtocolError(`'${key}' should be ${expected}, got ${actual}`, key);
}
