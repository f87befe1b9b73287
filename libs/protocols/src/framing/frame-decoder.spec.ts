import fc from 'fast-check';
import { FrameTooLargeError, ProtocolError } from '../errors';
import {
  encodeBigEndianLengthPrefixed,
  encodeLittleEndianLengthPrefixed,
  FrameDecoder,
  framePayload,
  littleEndianLengthFormat,
  plistServiceFormat,
} from './frame-decoder';

describe('FrameDecoder', () => {
  it('splits 4-byte big-endian frames, whole or byte by byte', () => {
    const wire = Buffer.from('00000003616263' + '00000000' + '0000000178', 'hex');
    const whole = new FrameDecoder(plistServiceFormat()).push(wire).map((f) => framePayload(f).toString());
    expect(whole).toEqual(['abc', '', 'x']);

    const decoder = new FrameDecoder(plistServiceFormat());
    const oneByOne: string[] = [];
    for (const byte of wire)
      oneByOne.push(...decoder.push(Buffer.from([byte])).map((f) => framePayload(f).toString()));
    expect(oneByOne).toEqual(['abc', '', 'x']);
    expect(decoder.buffered).toBe(0);
  });

  it('reads little-endian lengths for the FDR format', () => {
    const frames = new FrameDecoder(littleEndianLengthFormat('FDR')).push(
      Buffer.from('0200000068690100', 'hex'),
    );
    expect(frames.map((f) => framePayload(f).toString())).toEqual(['hi']);
  });

  it('encodes both length prefixes', () => {
    expect(encodeBigEndianLengthPrefixed(Buffer.from('abc')).toString('hex')).toBe('00000003616263');
    expect(encodeLittleEndianLengthPrefixed(Buffer.from('abc')).toString('hex')).toBe('03000000616263');
  });

  it('refuses a frame announcing 4 GiB before allocating anything for it', () => {
    const decoder = new FrameDecoder(plistServiceFormat());
    const before = process.memoryUsage().arrayBuffers;
    let error: unknown;
    try {
      decoder.push(Buffer.from('ffffffff00', 'hex'));
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(FrameTooLargeError);
    expect((error as FrameTooLargeError).announced).toBe(4 + 0xffffffff);
    expect(decoder.buffered).toBe(5);
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(16 * 1024 * 1024);
  });

  it('hands over the bytes after the last frame', () => {
    const decoder = new FrameDecoder(plistServiceFormat());
    expect(decoder.push(Buffer.from('0000000161' + 'dead', 'hex'))).toHaveLength(1);
    expect(decoder.takeRemaining().toString('hex')).toBe('dead');
    expect(decoder.buffered).toBe(0);
  });

  it('stops after maxFrames so bytes that are not frames are never parsed as one', () => {
    const decoder = new FrameDecoder(plistServiceFormat());
    // one frame, then raw bytes that would announce a 4 GiB frame if parsed
    expect(decoder.push(Buffer.from('0000000161' + 'ffffffff00', 'hex'), 1)).toHaveLength(1);
    expect(decoder.takeRemaining().toString('hex')).toBe('ffffffff00');
    const two = Buffer.from('0000000161' + '0000000162', 'hex');
    const stepwise = new FrameDecoder(plistServiceFormat());
    expect(stepwise.push(two, 1).map((f) => framePayload(f).toString())).toEqual(['a']);
    expect(stepwise.push(Buffer.alloc(0), 1).map((f) => framePayload(f).toString())).toEqual(['b']);
  });

  it('yields every frame intact however the stream is cut', () => {
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ maxLength: 40 }), { maxLength: 10 }),
        fc.array(fc.nat(30), { maxLength: 20 }),
        (payloads, cuts) => {
          const wire = Buffer.concat(payloads.map((p) => encodeBigEndianLengthPrefixed(p)));
          const decoder = new FrameDecoder(plistServiceFormat(64));
          const out: Buffer[] = [];
          let offset = 0;
          for (const cut of [...cuts, wire.length]) {
            const end = Math.min(wire.length, offset + cut);
            out.push(...decoder.push(wire.subarray(offset, end)).map((f) => framePayload(f)));
            offset = end;
          }
          expect(out.map((b) => b.toString('hex'))).toEqual(
            payloads.map((p) => Buffer.from(p).toString('hex')),
          );
        },
      ),
    );
  });

  it('refuses oversized frames with a typed error, never another error', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 4, maxLength: 64 }), (bytes) => {
        const decoder = new FrameDecoder(plistServiceFormat(16));
        try {
          decoder.push(bytes);
        } catch (error) {
          expect(error).toBeInstanceOf(ProtocolError);
        }
      }),
    );
  });
});
