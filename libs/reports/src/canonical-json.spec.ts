import { canonicalJson } from './canonical-json';

describe('canonical JSON', () => {
  it('sorts keys at every depth and writes no whitespace', () => {
    expect(canonicalJson({ b: 1, a: { d: [3, { z: null, y: true }], c: 'x' } })).toBe(
      '{"a":{"c":"x","d":[3,{"y":true,"z":null}]},"b":1}',
    );
  });

  it('is the same whatever order the keys were written in', () => {
    expect(canonicalJson({ ecid: 'E', shop: 'S', version: 1 })).toBe(
      canonicalJson({ version: 1, shop: 'S', ecid: 'E' }),
    );
  });

  it('sorts by UTF-16 code units, as RFC 8785 does', () => {
    expect(canonicalJson({ b: 0, B: 0, é: 0, a: 0 })).toBe('{"B":0,"a":0,"b":0,"é":0}');
  });

  it('leaves out undefined members and escapes strings like JSON.stringify', () => {
    expect(canonicalJson({ a: undefined, b: 'line\n"quoted"' })).toBe('{"b":"line\\n\\"quoted\\""}');
  });

  it('refuses values JSON cannot hold', () => {
    expect(() => canonicalJson({ n: Number.NaN })).toThrow(/no form for NaN/);
    expect(() => canonicalJson({ f: () => 1 })).toThrow(/no form for a function/);
  });
});
