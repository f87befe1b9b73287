import * as fc from 'fast-check';
import { buildOfOsLongVersion, isBuildVersion, osLongVersionOf } from './build-numbers';
import { SYNTHETIC_OS_HEADER_SIZE, SyntheticOsImage, SyntheticOsImageError } from './synthetic-os-image';

describe('SyntheticOsImage', () => {
  const image = SyntheticOsImage.create({ size: 1_000_003, seed: 'test-seed', label: 'iPhone10,1 22G100' });

  it('is rebuilt from its 512-byte header alone', () => {
    const again = SyntheticOsImage.fromHeader(image.bytesAt(0, SYNTHETIC_OS_HEADER_SIZE));
    expect(again.size).toBe(1_000_003);
    expect(again.label).toBe('iPhone10,1 22G100');
    expect(again.bytesAt(123_456, 1000)).toEqual(image.bytesAt(123_456, 1000));
    const damaged = image.bytesAt(0, 512);
    damaged[40] ^= 1;
    expect(() => SyntheticOsImage.fromHeader(damaged)).toThrow(/checksum/);
    expect(() => SyntheticOsImage.fromHeader(Buffer.alloc(512))).toThrow(SyntheticOsImageError);
  });

  it('gives the same bytes whatever the offsets it is read at (CTR seeks)', () => {
    const whole = image.bytesAt(0, image.size);
    expect(whole.length).toBe(image.size);
    fc.assert(
      fc.property(fc.nat({ max: image.size }), fc.nat({ max: 70_000 }), (offset, length) => {
        const part = image.bytesAt(offset, length);
        return part.equals(whole.subarray(offset, offset + length)) && image.verifyRange(offset, part);
      }),
      { numRuns: 300 },
    );
  });

  it('finds a wrong byte, and refuses bytes past the end', () => {
    const bytes = image.bytesAt(5000, 100);
    bytes[37] ^= 0x80;
    expect(image.verifyRange(5000, bytes)).toBe(false);
    expect(image.firstMismatch(5000, bytes)).toBe(5037);
    expect(
      image.verifyRange(
        image.size - 10,
        Buffer.concat([image.bytesAt(image.size - 10, 10), Buffer.from([0])]),
      ),
    ).toBe(false);
    expect(image.verifyRange(-1, Buffer.alloc(1))).toBe(false);
  });

  it('verifies a stream chunk by chunk and says when it is complete', () => {
    const verifier = image.createVerifier();
    for (let offset = 0; offset < image.size; offset += 0x20000)
      verifier.update(image.bytesAt(offset, 0x20000));
    expect(verifier.result()).toEqual({
      ok: true,
      complete: true,
      received: image.size,
      size: image.size,
      mismatchAt: undefined,
      excess: 0,
    });

    const partial = image.createVerifier();
    partial.update(image.bytesAt(0, 4096));
    expect(partial.result()).toMatchObject({ ok: true, complete: false, received: 4096 });

    const corrupt = image.createVerifier();
    const chunk = image.bytesAt(0, 0x20000);
    chunk[70_000] ^= 1;
    corrupt.update(chunk);
    corrupt.update(image.bytesAt(0x20000, image.size));
    expect(corrupt.result()).toMatchObject({ ok: false, complete: false, mismatchAt: 70_000 });

    const long = image.createVerifier();
    long.update(image.bytesAt(0, image.size));
    long.update(Buffer.alloc(5));
    expect(long.result()).toMatchObject({ ok: false, excess: 5 });
  });

  it('streams exactly its bytes', async () => {
    const small = SyntheticOsImage.create({ size: 3 * 1024 * 1024 + 5, seed: 's' });
    const chunks: Buffer[] = [];
    for await (const chunk of small.stream(1024 * 1024)) chunks.push(chunk as Buffer);
    expect(Buffer.concat(chunks)).toEqual(small.bytesAt(0, small.size));
  });

  it('depends on its seed', () => {
    const other = SyntheticOsImage.create({ size: 1_000_003, seed: 'other', label: 'iPhone10,1 22G100' });
    expect(other.bytesAt(1024, 64)).not.toEqual(image.bytesAt(1024, 64));
    expect(() => SyntheticOsImage.create({ size: 100, seed: 'x' })).toThrow(SyntheticOsImageError);
  });
});

describe('build numbers and Ap,OSLongVersion', () => {
  it('map both ways like Apple’s manifests (23C71 ↔ 23.3.71.0.0,0)', () => {
    expect(osLongVersionOf('23C71')).toBe('23.3.71.0.0,0');
    expect(osLongVersionOf('22G100')).toBe('22.7.100.0.0,0');
    expect(buildOfOsLongVersion('23.3.71.0.0,0')).toBe('23C71');
    expect(buildOfOsLongVersion('garbage')).toBeUndefined();
    expect(isBuildVersion('17F80')).toBe(true);
    expect(isBuildVersion('latest')).toBe(false);
    expect(() => osLongVersionOf('x')).toThrow(RangeError);
  });
});
