import { ProtocolError } from '../errors';
import {
  checkDfuTrailer,
  decodeDfuStatus,
  DFU_SUFFIX,
  dfuCrc32,
  DfuState,
  dfuStateName,
  dfuTrailer,
  encodeDfuStatus,
  planDfuUpload,
} from './dfu';

// The expected CRCs were computed outside this code base with a bit-by-bit Python loop
// (reflected 0xEDB88320, init 0xFFFFFFFF, no final XOR) and cross-checked as zlib.crc32 ^ 0xFFFFFFFF.
describe('dfuCrc32 (libirecovery)', () => {
  it('is the CRC-32 register without the final XOR', () => {
    // The standard check value of "123456789" is 0xCBF43926; without the final XOR it is its complement.
    expect(dfuCrc32(Buffer.from('123456789'))).toBe(0x340bc6d9);
  });

  it('chains over image and suffix', () => {
    expect(dfuCrc32(DFU_SUFFIX, dfuCrc32(Buffer.from('123456789')))).toBe(0x14c2daa4);
    expect(dfuCrc32(Buffer.concat([Buffer.from('iBSS'), DFU_SUFFIX]))).toBe(0x6ddf1125);
  });
});

describe('dfuTrailer', () => {
  it('is the 12-byte suffix then the CRC little-endian', () => {
    expect(dfuTrailer(Buffer.from('123456789'))).toEqual(
      Buffer.from([
        0xff, 0xff, 0xff, 0xff, 0xac, 0x05, 0x00, 0x01, 0x55, 0x46, 0x44, 0x10, 0xa4, 0xda, 0xc2, 0x14,
      ]),
    );
  });
});

describe('planDfuUpload', () => {
  it('puts the trailer in the last block when it fits', () => {
    const image = Buffer.alloc(0x800 + 100, 7);
    const plan = planDfuUpload(image);
    expect(plan.blockCount).toBe(2);
    expect(plan.blocks.map((b) => [b.wValue, b.data.length, b.imageBytes])).toEqual([
      [0, 0x800, 0x800],
      [1, 116, 100],
    ]);
    expect(Buffer.from(plan.blocks[1].data.subarray(100))).toEqual(dfuTrailer(image));
  });

  it('sends the trailer alone with the same wValue when last block + 16 > 0x800', () => {
    // 2040-byte image: the zero image's CRC computed outside is 0x00062f1f.
    const image = Buffer.alloc(2040);
    const plan = planDfuUpload(image);
    expect(plan.blockCount).toBe(1);
    expect(plan.blocks.map((b) => [b.wValue, b.data.length, b.imageBytes])).toEqual([
      [0, 2040, 2040],
      [0, 16, 0],
    ]);
    expect(Buffer.from(plan.blocks[1].data.subarray(12))).toEqual(Buffer.from([0x1f, 0x2f, 0x06, 0x00]));
  });

  it('keeps exactly-fitting last blocks together (0x800 − 16 bytes of image)', () => {
    const plan = planDfuUpload(Buffer.alloc(0x800 - 16));
    expect(plan.blocks).toHaveLength(1);
    expect(plan.blocks[0].data).toHaveLength(0x800);
  });

  it('can leave the trailer off (small-packet mode) and refuses empty images', () => {
    const plan = planDfuUpload(Buffer.alloc(0x81), { blockSize: 0x40, trailer: false });
    expect(plan.blocks.map((b) => b.data.length)).toEqual([0x40, 0x40, 1]);
    expect(() => planDfuUpload(new Uint8Array(0))).toThrow(RangeError);
  });

  it('gives back what the device reassembles', () => {
    const image = Buffer.from(Array.from({ length: 5000 }, (_, i) => i % 251));
    const received = Buffer.concat(planDfuUpload(image).blocks.map((b) => b.data));
    const check = checkDfuTrailer(received);
    expect(check).toMatchObject({ hasTrailer: true, crcOk: true });
    expect(Buffer.from(check.image)).toEqual(image);
  });
});

describe('checkDfuTrailer', () => {
  it('notices a damaged byte', () => {
    const image = Buffer.alloc(300, 1);
    const received = Buffer.concat([image, dfuTrailer(image)]);
    received[10] ^= 0xff;
    expect(checkDfuTrailer(received)).toMatchObject({ hasTrailer: true, crcOk: false });
  });

  it('passes uploads without a suffix through', () => {
    expect(checkDfuTrailer(Buffer.alloc(40, 3))).toMatchObject({ hasTrailer: false, crcOk: true });
    expect(checkDfuTrailer(Buffer.alloc(4))).toMatchObject({ hasTrailer: false });
  });
});

describe('DFU status', () => {
  it('decodes bState at byte 4 and the 24-bit poll timeout', () => {
    expect(decodeDfuStatus(Buffer.from([0x00, 0x10, 0x27, 0x00, 0x05, 0x00]))).toEqual({
      status: 0,
      pollTimeoutMs: 10000,
      state: DfuState.dnloadIdle,
      stringIndex: 0,
    });
    expect(encodeDfuStatus({ status: 0x0a, pollTimeoutMs: 0x010203, state: 10, stringIndex: 0 })).toEqual(
      Buffer.from([0x0a, 0x03, 0x02, 0x01, 0x0a, 0x00]),
    );
    expect(() => decodeDfuStatus(Buffer.from([0, 0, 0]))).toThrow(ProtocolError);
    expect(dfuStateName(5)).toBe('dnloadIdle');
    expect(dfuStateName(42)).toBe('state 42');
  });
});
