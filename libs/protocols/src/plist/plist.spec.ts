import fc from 'fast-check';
import { ProtocolError } from '../errors';
import { optionalBigInteger, requireInteger, requireString } from './fields';
import {
  decodePlist,
  decodePlistDict,
  encodePlistBinary,
  encodePlistXml,
  isBinaryPlist,
  PlistError,
  type PlistDict,
  type PlistValue,
} from './plist';

// Produced by an independent encoder (Python's plistlib, FMT_BINARY) for
// {Command: 'BeginCtrl', CtrlProtoVersion: 2}: the FDR request idevicerestore sends.
const PYTHON_BPLIST_BEGIN_CTRL = Buffer.from(
  '62706c6973743030d20102030457436f6d6d616e645f10104374726c50726f746f56657273696f6e59426567696e4374726c10' +
    '02080d1528320000000000000101000000000000000500000000000000000000000000000034',
  'hex',
);
// plistlib again: {A: [true, false, -5, 70000, <00 01>], S: 'hé'} (UTF-16 string, 8-byte negative int).
const PYTHON_BPLIST_MIXED = Buffer.from(
  '62706c6973743030d20102030951415153a50405060708090813fffffffffffffffb120001117042000162006800e9080d0f11' +
    '17181922272a0000000000000101000000000000000a0000000000000000000000000000002f',
  'hex',
);

// xmldom reports malformed XML on console.error before throwing; the fuzz cases make plenty.
beforeEach(() => jest.spyOn(console, 'error').mockImplementation(() => undefined));
afterEach(() => jest.restoreAllMocks());

describe('plist', () => {
  it('decodes binary plists written by another implementation', () => {
    expect(isBinaryPlist(PYTHON_BPLIST_BEGIN_CTRL)).toBe(true);
    expect(decodePlistDict(PYTHON_BPLIST_BEGIN_CTRL)).toEqual({ Command: 'BeginCtrl', CtrlProtoVersion: 2 });
    expect(decodePlistDict(PYTHON_BPLIST_MIXED)).toEqual({
      A: [true, false, -5, 70000, new Uint8Array([0, 1])],
      S: 'hé',
    });
  });

  it('decodes a literal XML plist with every common type', () => {
    const xml =
      '<?xml version="1.0" encoding="UTF-8"?>\n<plist version="1.0"><dict>' +
      '<key>s</key><string>a &amp; b</string><key>i</key><integer>-42</integer>' +
      '<key>r</key><real>2.5</real><key>t</key><true/><key>f</key><false/>' +
      '<key>d</key><data>AAEC/w==</data><key>a</key><array><integer>1</integer></array>' +
      '<key>n</key><dict/></dict></plist>';
    expect(decodePlist(Buffer.from(xml))).toEqual({
      s: 'a & b',
      i: -42,
      r: 2.5,
      t: true,
      f: false,
      d: new Uint8Array([0, 1, 2, 255]),
      a: [1],
      n: {},
    });
  });

  it('writes XML that starts with the XML declaration and binary that starts with bplist00', () => {
    expect(encodePlistXml({ a: 1 }).subarray(0, 5).toString()).toBe('<?xml');
    expect(encodePlistBinary({ a: 1 }).subarray(0, 8).toString()).toBe('bplist00');
  });

  it('refuses empty, oversized, entity-declaring, non-plist and truncated input with PlistError', () => {
    expect(() => decodePlist(new Uint8Array(0))).toThrow(PlistError);
    expect(() => decodePlist(Buffer.alloc(100, 0x20), { maxBytes: 99 })).toThrow(/exceeds the 99-byte limit/);
    expect(() =>
      decodePlist(Buffer.from('<!DOCTYPE x [<!ENTITY a "b">]><plist><string>&a;</string></plist>')),
    ).toThrow(/entities/);
    expect(() => decodePlist(Buffer.from('hello'))).toThrow(PlistError);
    expect(() => decodePlist(PYTHON_BPLIST_MIXED.subarray(0, 40))).toThrow(PlistError);
    expect(() => decodePlistDict(encodePlistXml(['not', 'a', 'dict']))).toThrow(/expected a dictionary/);
  });

  it('reads typed fields and names the missing or mistyped one', () => {
    const dict: PlistDict = { n: 5, s: 'x', big: 2n ** 60n };
    expect(requireInteger(dict, 'n')).toBe(5);
    expect(optionalBigInteger(dict, 'big')).toBe(2n ** 60n);
    expect(() => requireString(dict, 'n')).toThrow(expect.objectContaining({ what: 'n' }));
    expect(() => requireInteger(dict, 'missing')).toThrow(ProtocolError);
  });

  const key = fc.stringMatching(/^[A-Za-z][A-Za-z0-9 _.,-]{0,15}$/);
  const text = fc.string({
    unit: fc.constantFrom('a', 'Z', '0', ' ', '\t', '\n', '<', '>', '&', '"', "'", 'é', '漢', '🙂'),
    maxLength: 30,
  });
  // bplist-parser reads integers of 8 bytes and more only to 32 bits (see the helper's report),
  // so round trips stay in ±2^31 here; XML carries every safe integer.
  const leaf = (intRange: fc.IntegerConstraints) =>
    fc.oneof(
      text,
      fc.integer(intRange),
      fc.boolean(),
      fc.uint8Array({ maxLength: 40 }),
      fc
        .double({ noNaN: true, noDefaultInfinity: true, min: -1e9, max: 1e9 })
        .filter((d) => !Number.isInteger(d)),
    );
  const valueOf = (intRange: fc.IntegerConstraints) =>
    fc.letrec<{ value: PlistValue }>((tie) => ({
      value: fc.oneof(
        { depthSize: 'small' },
        leaf(intRange),
        fc.array(tie('value'), { maxLength: 4 }),
        fc.dictionary(key, tie('value'), { maxKeys: 4 }),
      ),
    })).value;
  const asDict = (value: PlistValue): PlistDict => ({ root: value });

  it('round-trips arbitrary values through XML', () => {
    fc.assert(
      fc.property(valueOf({ min: Number.MIN_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER }), (value) => {
        expect(decodePlist(encodePlistXml(asDict(value)))).toEqual(asDict(value));
      }),
      { numRuns: 200 },
    );
  });

  it('round-trips arbitrary values through binary', () => {
    fc.assert(
      fc.property(valueOf({ min: -(2 ** 31), max: 2 ** 31 - 1 }), (value) => {
        expect(decodePlist(encodePlistBinary(asDict(value)))).toEqual(asDict(value));
      }),
      { numRuns: 200 },
    );
  });

  it('fails only with PlistError on arbitrary or corrupted input', () => {
    const seeds = [encodePlistXml({ a: [1, 'x', new Uint8Array([1])] }), encodePlistBinary({ a: [1, 'x'] })];
    fc.assert(
      fc.property(
        fc.oneof(
          fc.uint8Array({ maxLength: 200 }),
          fc
            .constant(Buffer.from('bplist00'))
            .chain((magic) => fc.uint8Array({ maxLength: 120 }).map((rest) => Buffer.concat([magic, rest]))),
          fc
            .tuple(fc.constantFrom(...seeds), fc.nat(), fc.integer({ min: 0, max: 255 }), fc.nat())
            .map(([seed, at, byte, cut]) => {
              const copy = Buffer.from(seed);
              copy[at % copy.length] = byte;
              return copy.subarray(0, Math.max(1, copy.length - (cut % copy.length)));
            }),
        ),
        (bytes) => {
          try {
            decodePlist(bytes);
          } catch (error) {
            expect(error).toBeInstanceOf(PlistError);
          }
        },
      ),
      { numRuns: 400 },
    );
  });
});
