// The byte form a certificate signature covers: JSON with every object's keys sorted (by UTF-16
// code units, what Array.prototype.sort does), no whitespace, strings and numbers as
// JSON.stringify writes them, and object members whose value is undefined left out. For the
// values certificates hold (strings, integers, booleans, null, arrays, objects) this is the JSON
// Canonicalization Scheme of RFC 8785, so a verifier in another language can rebuild it.
export function canonicalJson(value: unknown): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return JSON.stringify(value);
    case 'number':
      if (!Number.isFinite(value)) throw new TypeError(`canonical JSON has no form for ${value}`);
      return JSON.stringify(value);
    case 'object':
      if (Array.isArray(value)) return `[${value.map((item) => canonicalJson(item ?? null)).join(',')}]`;
      return `{${Object.keys(value as object)
        .filter((key) => (value as Record<string, unknown>)[key] !== undefined)
        .sort()
        .map((key) => `${JSON.stringify(key)}:${canonicalJson((value as Record<string, unknown>)[key])}`)
        .join(',')}}`;
    default:
      throw new TypeError(`canonical JSON has no form for a ${typeof value}`);
  }
}
