// IpswArchive on real zips: random access through a stored member, streamed the way ASR reads it
// (its speed is the bench:asr benchmark's business, not a test's), and typed FirmwareInvalidErrors
// for a deflated member where random access is needed (or extraction to a cache directory when
// asked), a file that is not a zip, a missing member and a CRC mismatch.
import { randomBytes } from 'node:crypto';
import { createWriteStream, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { ZipFile } from 'yazl';
import { FirmwareInvalidError, failureClassOf } from '@bench/bench-domain';
import { buildSyntheticIpsw, SyntheticOsImage } from '@bench/device-sim';
import { IpswArchive } from '@bench/firmware';
import { tempDir } from '@bench/testing';

const ASR_CHUNK = 0x20000;

// Real files, sockets and hashing: give a busy CI machine room.
jest.setTimeout(60_000);

describe('IpswArchive', () => {
  const { dir, remove } = tempDir();
  afterAll(() => remove());

  it('streams a stored 256 MiB OS image through memberSource in ASR chunks, every byte matching the image', async () => {
    const ipsw = await buildSyntheticIpsw({
      productTypes: ['iPhone10,1'],
      out: path.join(dir, 'large.ipsw'),
      osSize: 256 * 1024 * 1024,
    });
    const archive = await IpswArchive.open(ipsw.path);
    try {
      const source = await archive.memberSource(ipsw.os.member);
      expect(source.size).toBe(256 * 1024 * 1024);
      const image = SyntheticOsImage.fromHeader(await source.read(0, 512));
      // Front to back in ASR's 0x20000-byte chunks, each checked against the image.
      let bytes = 0;
      const mismatches: number[] = [];
      for (let offset = 0; offset < source.size; offset += ASR_CHUNK) {
        const chunk = await source.read(offset, ASR_CHUNK);
        expect(chunk.length).toBe(Math.min(ASR_CHUNK, source.size - offset));
        if (!image.verifyRange(offset, chunk)) mismatches.push(offset);
        bytes += chunk.length;
      }
      expect(mismatches).toEqual([]);
      expect(bytes).toBe(source.size);
      // Random access across the whole member, unaligned, reads the same bytes.
      for (const offset of [1, 77_777_777, source.size - ASR_CHUNK - 3, source.size - 1]) {
        const chunk = await source.read(offset, ASR_CHUNK);
        expect(chunk.length).toBe(Math.min(ASR_CHUNK, source.size - offset));
        expect(image.verifyRange(offset, chunk)).toBe(true);
      }
    } finally {
      await archive.close();
    }
  }, 60_000);

  async function zipWith(name: string, members: [string, Buffer, boolean][]): Promise<string> {
    const file = path.join(dir, name);
    const zip = new ZipFile();
    for (const [member, bytes, compress] of members) zip.addBuffer(bytes, member, { compress });
    zip.end();
    await pipeline(zip.outputStream, createWriteStream(file));
    return file;
  }

  it('refuses random access into a deflated member, or extracts it once when given a directory', async () => {
    const payload = Buffer.concat([randomBytes(100_000), Buffer.alloc(100_000, 7)]);
    const file = await zipWith('deflated.ipsw', [
      ['os.dmg', payload, true],
      ['small.txt', Buffer.from('hi'), false],
    ]);
    const archive = await IpswArchive.open(file);
    try {
      expect(archive.member('os.dmg')).toMatchObject({
        stored: false,
        compressionMethod: 8,
        size: payload.length,
      });
      let caught: unknown;
      try {
        await archive.memberSource('os.dmg');
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(FirmwareInvalidError);
      expect(failureClassOf(caught)).toBe('firmware-invalid');
      expect((caught as Error).message).toMatch(
        /deflated\.ipsw:os\.dmg is compressed \(method 8\); random access needs a stored member/,
      );
      // Reading it whole still works (and is CRC-checked).
      expect((await archive.readMember('os.dmg')).equals(payload)).toBe(true);
      const extractDir = path.join(dir, 'extract');
      const source = await archive.memberSource('os.dmg', { extractDir });
      expect((await source.read(99_990, 20)).equals(payload.subarray(99_990, 100_010))).toBe(true);
      expect(readFileSync(path.join(extractDir, 'deflated', 'os.dmg')).equals(payload)).toBe(true);
    } finally {
      await archive.close();
    }
  });

  it('reports a missing member, a file that is not a zip, and a CRC mismatch as FirmwareInvalidError', async () => {
    const file = await zipWith('plain.ipsw', [['BuildManifest.plist', Buffer.from('<plist/>'), false]]);
    const archive = await IpswArchive.open(file);
    try {
      await expect(archive.memberSource('nope.dmg')).rejects.toThrow(
        new FirmwareInvalidError("plain.ipsw has no member 'nope.dmg'"),
      );
      await expect(archive.readBuildManifest()).rejects.toThrow(
        /BuildManifest\.plist: not a plist|malformed|BuildManifest/,
      );
    } finally {
      await archive.close();
    }

    const notZip = path.join(dir, 'garbage.ipsw');
    writeFileSync(notZip, randomBytes(4096));
    await expect(IpswArchive.open(notZip)).rejects.toThrow(/garbage\.ipsw is not a readable zip/);
    await expect(IpswArchive.open(path.join(dir, 'absent.ipsw'))).rejects.toBeInstanceOf(
      FirmwareInvalidError,
    );

    // Flip one byte of a stored member's data: the central directory CRC no longer matches.
    const content = Buffer.from('x'.repeat(1000));
    const damaged = await zipWith('crc.ipsw', [['Restore.plist', content, false]]);
    const bytes = readFileSync(damaged);
    bytes[bytes.indexOf(content) + 500] = 'y'.charCodeAt(0);
    writeFileSync(damaged, bytes);
    const broken = await IpswArchive.open(damaged);
    try {
      await expect(broken.readMember('Restore.plist')).rejects.toThrow(
        /crc\.ipsw:Restore\.plist fails its CRC check/,
      );
      await expect(broken.verify()).rejects.toBeInstanceOf(FirmwareInvalidError);
      // Random access does not verify (ASR checks its own chunks); it returns the bytes as stored.
      const source = await broken.memberSource('Restore.plist');
      expect((await source.read(500, 1)).toString()).toBe('y');
    } finally {
      await broken.close();
    }
  });
});
