// Identity rules: a device is keyed by ECID, a slot by its port path.

/** A USB location path as Linux sysfs and uhubctl print it: `BUS-P.P.P`, e.g. `1-1.4.2`. */
export type PortPath = string & { readonly __brand: 'PortPath' };
/** An ECID as 16 upper-case hex digits, e.g. `001A2B3C4D5E6F70`. */
export type Ecid = string & { readonly __brand: 'Ecid' };

const PORT_PATH = /^[1-9][0-9]{0,2}-[1-9][0-9]?(\.[1-9][0-9]?){0,6}$/;

export function isPortPath(value: string): value is PortPath {
  return PORT_PATH.test(value);
}

export function parsePortPath(value: string): PortPath {
  if (!isPortPath(value)) {
    throw new RangeError(`'${value}' is not a USB port path (expected BUS-PORT[.PORT…], e.g. 1-1.4.2)`);
  }
  return value;
}

/** Accepts `0x1A2B…`, plain hex or a decimal string/number/bigint and returns the canonical form. */
export function parseEcid(value: string | number | bigint): Ecid {
  let n: bigint;
  if (typeof value === 'bigint') n = value;
  else if (typeof value === 'number') {
    if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`'${value}' is not an ECID`);
    n = BigInt(value);
  } else {
    const text = value.trim();
    if (/^0x[0-9a-f]{1,16}$/i.test(text)) n = BigInt(text);
    else if (/^[0-9a-f]{16}$/i.test(text)) n = BigInt(`0x${text}`);
    else if (/^[0-9]{1,20}$/.test(text)) n = BigInt(text);
    else throw new RangeError(`'${value}' is not an ECID (expected 16 hex digits, 0x-hex or decimal)`);
  }
  if (n < 0n || n > 0xffff_ffff_ffff_ffffn) throw new RangeError(`'${value}' is out of range for an ECID`);
  return n.toString(16).toUpperCase().padStart(16, '0') as Ecid;
}

export function ecidToBigInt(ecid: Ecid): bigint {
  return BigInt(`0x${ecid}`);
}
