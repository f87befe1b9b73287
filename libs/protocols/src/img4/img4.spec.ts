import * as fc from 'fast-check';
import { Img4Error, encodeDerHeader } from './der';
import { decodeIm4m, encodeIm4m } from './im4m';
import { decodeIm4p, encodeIm4p, im4pTypeTagOffset } from './im4p';
import { bootNonceProperty, decodeIm4r, encodeIm4r } from './im4r';
import { isImg4, parseImg4, stitchImg4, withTypeTag } from './img4';
import { encodeIm4r as im4rOf } from './im4r';
import { ProtocolError } from '../errors';

const hex = (text: string): Buffer => Buffer.from(text.replace(/\s+/g, ''), 'hex');
const ascii = (text: string): string => Buffer.from(text, 'latin1').toString('hex');

// The fixed 22-byte IM4P idevicerestore uses for Ap,LocalPolicy (restore-protocol §6.5).
const LOCAL_POLICY_IM4P = hex(`3014 1604${ascii('IM4P')} 1604${ascii('lpol')} 1603${ascii('1.0')} 040100`);

const KERNEL_IM4P = hex(
  `301b 1604${ascii('IM4P')} 1604${ascii('krnl')} 1606${ascii('kc-1.0')} 0405${ascii('hello')}`,
);
// A minimal ticket: SEQUENCE { "IM4M", INTEGER 0 } is all the stitcher needs to see.
const TINY_IM4M = hex(`3009 1604${ascii('IM4M')} 020100`);

describe('IM4P', () => {
  it('decodes the literal LocalPolicy IM4P', () => {
    const im4p = decodeIm4p(LOCAL_POLICY_IM4P);
    expect(im4p).toMatchObject({ fourcc: 'lpol', description: '1.0', payloadFormat: 'raw' });
    expect(Buffer.from(im4p.payload)).toEqual(hex('00'));
  });

  it('encodes byte for byte what it decodes', () => {
    expect(encodeIm4p({ fourcc: 'lpol', description: '1.0', payload: hex('00') })).toEqual(LOCAL_POLICY_IM4P);
    expect(encodeIm4p({ fourcc: 'krnl', description: 'kc-1.0', payload: Buffer.from('hello') })).toEqual(
      KERNEL_IM4P,
    );
  });

  it('round-trips keybags, LZFSE size info and PAYP properties', () => {
    const bytes = encodeIm4p({
      fourcc: 'rdsk',
      description: 'ramdisk',
      payload: Buffer.from('bvx2....'),
      keybags: hex('3003020101'),
      compression: { algorithm: 1, uncompressedSize: 123456 },
    });
    const im4p = decodeIm4p(bytes);
    expect(im4p.payloadFormat).toBe('lzfse');
    expect(Buffer.from(im4p.keybags ?? [])).toEqual(hex('3003020101'));
    expect(im4p.compression).toEqual({ algorithm: 1, uncompressedSize: 123456 });
    const withProps = decodeIm4p(
      encodeIm4p({
        fourcc: 'ibss',
        description: 'x',
        payload: Buffer.from('complzss'),
        properties: { mmap: 1 },
      }),
    );
    expect(withProps.properties).toEqual({ mmap: 1n });
    expect(withProps.payloadFormat).toBe('lzss');
  });

  it('finds the type tag where it sits in the encoding', () => {
    expect(
      KERNEL_IM4P.subarray(im4pTypeTagOffset(KERNEL_IM4P), im4pTypeTagOffset(KERNEL_IM4P) + 4).toString(),
    ).toBe('krnl');
  });

  it.each([
    [
      'wrong magic',
      hex(`3014 1604${ascii('IM4X')} 1604${ascii('lpol')} 1603${ascii('1.0')} 040100`),
      /wrong magic 'IM4X'/,
    ],
    ['trailing bytes', Buffer.concat([LOCAL_POLICY_IM4P, hex('00')]), /1 trailing bytes/],
    ['truncated', LOCAL_POLICY_IM4P.subarray(0, 20), /malformed DER/],
    [
      'missing payload',
      hex(`3012 1604${ascii('IM4P')} 1604${ascii('lpol')} 1604${ascii('1.00')}`),
      /expected an OCTET STRING/,
    ],
    [
      'indefinite length',
      hex(`3080 1604${ascii('IM4P')} 1604${ascii('lpol')} 1603${ascii('1.0')} 040100 0000`),
      /indefinite/,
    ],
    ['not a sequence', hex('040100'), /expected a SEQUENCE/],
  ])('refuses %s with an Img4Error', (_name, bytes, message) => {
    expect(() => decodeIm4p(bytes)).toThrow(Img4Error);
    expect(() => decodeIm4p(bytes)).toThrow(message);
  });
});

describe('IMG4 stitching', () => {
  it('writes the exact IMG4 layout: SEQUENCE { "IMG4", IM4P, [0] IM4M }', () => {
    const img4 = stitchImg4({ im4p: LOCAL_POLICY_IM4P, im4m: TINY_IM4M });
    const body = Buffer.concat([hex(`1604${ascii('IMG4')}`), LOCAL_POLICY_IM4P, hex('a00b'), TINY_IM4M]);
    expect(img4).toEqual(Buffer.concat([encodeDerHeader(0x30, body.length), body]));
  });

  it('renames the tag for RestoreKernelCache (krnl → rkrn) and round-trips through the parser', () => {
    const img4 = stitchImg4({ im4p: KERNEL_IM4P, im4m: TINY_IM4M, component: 'RestoreKernelCache' });
    const parts = parseImg4(img4);
    expect(parts.im4p.fourcc).toBe('rkrn');
    expect(parts.im4p.description).toBe('kc-1.0');
    expect(Buffer.from(parts.im4p.payload).toString()).toBe('hello');
    expect(Buffer.from(parts.im4mBytes)).toEqual(TINY_IM4M);
    expect(parts.im4rBytes).toBeUndefined();
    // Only the four tag bytes differ from the shipped IM4P.
    const shipped = Buffer.from(KERNEL_IM4P);
    const sent = Buffer.from(parts.im4pBytes);
    const differing = [...sent].flatMap((byte, i) => (byte === shipped[i] ? [] : [i]));
    expect(differing.length).toBeGreaterThan(0);
    expect(differing.every((i) => i >= 10 && i < 14)).toBe(true);
  });

  it('keeps the tag for components that are not renamed', () => {
    expect(
      parseImg4(stitchImg4({ im4p: KERNEL_IM4P, im4m: TINY_IM4M, component: 'KernelCache' })).im4p.fourcc,
    ).toBe('krnl');
    expect(withTypeTag(KERNEL_IM4P, undefined)).toEqual(KERNEL_IM4P);
  });

  it('uses the manifest Img4PayloadType when given', () => {
    expect(parseImg4(stitchImg4({ im4p: KERNEL_IM4P, im4m: TINY_IM4M, typeTag: 'rtsc' })).im4p.fourcc).toBe(
      'rtsc',
    );
  });

  it('carries an IM4R in [1]', () => {
    const im4r = encodeIm4r({ BNCN: bootNonceProperty(0x1122334455667788n) });
    const parts = parseImg4(stitchImg4({ im4p: KERNEL_IM4P, im4m: TINY_IM4M, im4r }));
    expect(Buffer.from(parts.im4rBytes ?? [])).toEqual(im4r);
    expect(decodeIm4r(parts.im4rBytes ?? new Uint8Array())).toEqual({ BNCN: hex('8877665544332211') });
  });

  it('uses long-form lengths for large parts', () => {
    const big = encodeIm4p({ fourcc: 'rdsk', description: 'd', payload: Buffer.alloc(70_000, 1) });
    const parts = parseImg4(stitchImg4({ im4p: big, im4m: TINY_IM4M }));
    expect(parts.im4p.payload.length).toBe(70_000);
  });

  it('refuses a ticket that is not an IM4M and an IMG4 without ticket', () => {
    expect(() => stitchImg4({ im4p: KERNEL_IM4P, im4m: LOCAL_POLICY_IM4P })).toThrow(
      /IM4M: wrong magic 'IM4P'/,
    );
    const noTicket = hex(`3024 1604${ascii('IMG4')}`);
    const body = Buffer.concat([hex(`1604${ascii('IMG4')}`), LOCAL_POLICY_IM4P]);
    expect(() => parseImg4(Buffer.concat([encodeDerHeader(0x30, body.length), body]))).toThrow(
      /lacks the \[0\] IM4M/,
    );
    expect(() => parseImg4(noTicket)).toThrow(Img4Error);
    expect(isImg4(noTicket)).toBe(false);
    expect(isImg4(stitchImg4({ im4p: KERNEL_IM4P, im4m: TINY_IM4M }))).toBe(true);
  });
});

describe('Image4 properties and IM4M', () => {
  it('encodes a property under its fourcc tag (literal bytes)', () => {
    // [PRIVATE 'BNCH'] { SEQUENCE { "BNCH", OCTET STRING 01 02 } }
    expect(encodeIm4r({ BNCH: hex('0102') })).toEqual(
      hex(`301b 1604${ascii('IM4R')} 3113 ff8492b98648 0c 300a 1604${ascii('BNCH')} 04020102`),
    );
  });

  it('round-trips a manifest with nested image dictionaries and checks the signature input', () => {
    const signed: Buffer[] = [];
    const im4m = encodeIm4m({
      manp: { ECID: 0x1a2b3c4d5e6fn, BNCH: hex('aabb'), CHIP: 0x8015, CPRO: true },
      images: { ibss: { DGST: hex('0011'), EPRO: true, ESEC: true }, rkrn: { DGST: hex('22') } },
      sign: (bytes) => {
        signed.push(bytes);
        return hex('5151');
      },
    });
    const decoded = decodeIm4m(im4m);
    expect(decoded.version).toBe(0n);
    expect(decoded.manp).toEqual({ ECID: 0x1a2b3c4d5e6fn, BNCH: hex('aabb'), CHIP: 0x8015n, CPRO: true });
    expect(decoded.images.ibss).toEqual({ DGST: hex('0011'), EPRO: true, ESEC: true });
    expect(Object.keys(decoded.images).sort()).toEqual(['ibss', 'rkrn']);
    expect(Buffer.from(decoded.signature)).toEqual(hex('5151'));
    expect(Buffer.from(decoded.signedBytes)).toEqual(signed[0]);
  });

  it('refuses a property whose tag and name disagree', () => {
    const bad = hex(`301b 1604${ascii('IM4R')} 3113 ff8492b98648 0c 300a 1604${ascii('BNCX')} 04020102`);
    expect(() => decodeIm4r(bad)).toThrow(/under a tag that names something else/);
  });
});

describe('decoders on hostile input (property tests)', () => {
  const validInputs = [
    LOCAL_POLICY_IM4P,
    KERNEL_IM4P,
    stitchImg4({
      im4p: KERNEL_IM4P,
      im4m: TINY_IM4M,
      component: 'RestoreKernelCache',
      im4r: im4rOf({ snid: 2 }),
    }),
    encodeIm4m({ manp: { ECID: 5 }, images: { ibss: { DGST: hex('00') } }, sign: () => hex('01') }),
  ];
  const decoders: [string, (bytes: Uint8Array) => unknown][] = [
    ['decodeIm4p', decodeIm4p],
    ['parseImg4', parseImg4],
    ['decodeIm4m', decodeIm4m],
    ['decodeIm4r', decodeIm4r],
  ];

  function onlyTypedErrors(decode: (bytes: Uint8Array) => unknown, bytes: Uint8Array): boolean {
    try {
      decode(bytes);
      return true;
    } catch (error) {
      return error instanceof Img4Error && error instanceof ProtocolError;
    }
  }

  it.each(decoders)('%s throws only Img4Error on random bytes', (_name, decode) => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 512 }), (bytes) => onlyTypedErrors(decode, bytes)),
      {
        numRuns: 2000,
      },
    );
  });

  it.each(decoders)('%s throws only Img4Error on truncated and mutated valid input', (_name, decode) => {
    fc.assert(
      fc.property(
        fc.constantFrom(...validInputs),
        fc.nat(),
        fc.nat(),
        fc.integer({ min: 0, max: 255 }),
        (valid, cut, position, byte) => {
          const truncated = valid.subarray(0, cut % valid.length);
          const mutated = Buffer.from(valid);
          mutated[position % mutated.length] = byte;
          return onlyTypedErrors(decode, truncated) && onlyTypedErrors(decode, mutated);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it.each(decoders)('%s refuses lengths that announce more than the input (oversized)', (_name, decode) => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 2 ** 40 }),
        fc.uint8Array({ maxLength: 64 }),
        (announced, tail) => {
          const bytes = Buffer.concat([
            encodeDerHeader(0x30, announced + tail.length + 1),
            Buffer.from(tail),
          ]);
          try {
            decode(bytes);
            return false;
          } catch (error) {
            return error instanceof Img4Error;
          }
        },
      ),
      { numRuns: 500 },
    );
  });
});
