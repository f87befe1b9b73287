// Acceptance (firmware): a Zip64 IPSW larger than 4 GiB opens, and a stored member reads at random
// offsets (some beyond 4 GiB) without the file being read whole. The test writes the zip itself,
// by the ZIP specification, as a sparse file: the 4.5 GiB member is zeros except for marker blocks,
// so it takes almost no disk.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import path from 'node:path';
import { crc32 } from 'node:zlib';
import { IpswArchive } from '@bench/firmware';
import { tempDir } from '@bench/testing';

const GiB = 1024 ** 3;
const OS_SIZE = 4 * GiB + 512 * 1024 * 1024;
const MARKER = 64;
const MARKER_OFFSETS = [0, 1024 * 1024 + 3, 4 * GiB - 5, 4 * GiB + 12_345, OS_SIZE - MARKER];

interface Member {
  name: string;
  size: number;
  crc: number;
  localHeaderOffset: number;
}

function localHeader(name: string, size: number, crc: number, zip64: boolean): Buffer {
  const nameBytes = Buffer.from(name);
  const extra = zip64 ? Buffer.alloc(20) : Buffer.alloc(0);
  if (zip64) {
    extra.writeUInt16LE(0x0001, 0);
    extra.writeUInt16LE(16, 2);
    extra.writeBigUInt64LE(BigInt(size), 4);
    extra.writeBigUInt64LE(BigInt(size), 12);
  }
  const header = Buffer.alloc(30);
  header.writeUInt32LE(0x04034b50, 0);
  header.writeUInt16LE(zip64 ? 45 : 20, 4);
  header.writeUInt16LE(0, 6); // flags
  header.writeUInt16LE(0, 8); // stored
  header.writeUInt16LE(0, 10);
  header.writeUInt16LE(0x21, 12); // 1980-01-01
  header.writeUInt32LE(crc >>> 0, 14);
  header.writeUInt32LE(zip64 ? 0xffffffff : size, 18);
  header.writeUInt32LE(zip64 ? 0xffffffff : size, 22);
  header.writeUInt16LE(nameBytes.length, 26);
  header.writeUInt16LE(extra.length, 28);
  return Buffer.concat([header, nameBytes, extra]);
}

function centralHeader(member: Member): Buffer {
  const big = member.size >= 0xffffffff;
  const farOffset = member.localHeaderOffset >= 0xffffffff;
  const fields: bigint[] = [];
  if (big) fields.push(BigInt(member.size), BigInt(member.size));
  if (farOffset) fields.push(BigInt(member.localHeaderOffset));
  const extra = fields.length ? Buffer.alloc(4 + 8 * fields.length) : Buffer.alloc(0);
  if (fields.length) {
    extra.writeUInt16LE(0x0001, 0);
    extra.writeUInt16LE(8 * fields.length, 2);
    fields.forEach((value, i) => extra.writeBigUInt64LE(value, 4 + 8 * i));
  }
  const nameBytes = Buffer.from(member.name);
  const header = Buffer.alloc(46);
  header.writeUInt32LE(0x02014b50, 0);
  header.writeUInt16LE(45, 4);
  header.writeUInt16LE(45, 6);
  header.writeUInt16LE(0x21, 14);
  header.writeUInt32LE(member.crc >>> 0, 16);
  header.writeUInt32LE(big ? 0xffffffff : member.size, 20);
  header.writeUInt32LE(big ? 0xffffffff : member.size, 24);
  header.writeUInt16LE(nameBytes.length, 28);
  header.writeUInt16LE(extra.length, 30);
  header.writeUInt32LE(farOffset ? 0xffffffff : member.localHeaderOffset, 42);
  return Buffer.concat([header, nameBytes, extra]);
}

function endRecords(count: number, cdOffset: number, cdSize: number): Buffer {
  const zip64End = Buffer.alloc(56);
  zip64End.writeUInt32LE(0x06064b50, 0);
  zip64End.writeBigUInt64LE(44n, 4);
  zip64End.writeUInt16LE(45, 12);
  zip64End.writeUInt16LE(45, 14);
  zip64End.writeBigUInt64LE(BigInt(count), 24);
  zip64End.writeBigUInt64LE(BigInt(count), 32);
  zip64End.writeBigUInt64LE(BigInt(cdSize), 40);
  zip64End.writeBigUInt64LE(BigInt(cdOffset), 48);
  const locator = Buffer.alloc(20);
  locator.writeUInt32LE(0x07064b50, 0);
  locator.writeBigUInt64LE(BigInt(cdOffset + cdSize), 8);
  locator.writeUInt32LE(1, 16);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(count, 8);
  end.writeUInt16LE(count, 10);
  end.writeUInt32LE(cdSize, 12);
  end.writeUInt32LE(0xffffffff, 16);
  return Buffer.concat([zip64End, locator, end]);
}

/** CRC-32 of a sparse member: zeros with markers at the given offsets. */
function sparseCrc(size: number, markers: Map<number, Buffer>): number {
  const zeros = Buffer.alloc(64 * 1024 * 1024);
  let crc = 0;
  let position = 0;
  const zerosUntil = (end: number): void => {
    while (position < end) {
      const n = Math.min(zeros.length, end - position);
      crc = crc32(zeros.subarray(0, n), crc);
      position += n;
    }
  };
  for (const offset of [...markers.keys()].sort((a, b) => a - b)) {
    zerosUntil(offset);
    const marker = markers.get(offset) as Buffer;
    crc = crc32(marker, crc);
    position += marker.length;
  }
  zerosUntil(size);
  return crc;
}

function readIoBytes(): number {
  // Bytes this process read through read(2) and friends (Linux).
  const match = /^rchar: (\d+)$/m.exec(readFileSync('/proc/self/io', 'utf8'));
  if (!match) throw new Error('/proc/self/io has no rchar');
  return Number(match[1]);
}

describe('a Zip64 IPSW over 4 GiB', () => {
  const { dir, remove } = tempDir();
  const file = path.join(dir, 'big.ipsw');
  const markers = new Map(MARKER_OFFSETS.map((offset) => [offset, randomBytes(MARKER)]));
  const small = Buffer.from('<?xml version="1.0"?><plist version="1.0"><dict/></plist>\n');
  const tail = Buffer.from('written after the 4 GiB member: its local header lies beyond 4 GiB\n');

  beforeAll(async () => {
    const members: Member[] = [];
    const handle = await open(file, 'w');
    try {
      let position = 0;
      const put = async (bytes: Buffer, at: number): Promise<void> => {
        await handle.write(bytes, 0, bytes.length, at);
      };
      // 1: a small stored member.
      members.push({ name: 'Restore.plist', size: small.length, crc: crc32(small), localHeaderOffset: 0 });
      const h1 = localHeader('Restore.plist', small.length, crc32(small), false);
      await put(Buffer.concat([h1, small]), 0);
      position = h1.length + small.length;
      // 2: the 4.5 GiB OS image, sparse.
      const osCrc = sparseCrc(OS_SIZE, markers);
      const h2 = localHeader('os.dmg', OS_SIZE, osCrc, true);
      members.push({ name: 'os.dmg', size: OS_SIZE, crc: osCrc, localHeaderOffset: position });
      await put(h2, position);
      const dataStart = position + h2.length;
      for (const [offset, marker] of markers) await put(marker, dataStart + offset);
      position = dataStart + OS_SIZE;
      // 3: a small member whose local header is beyond 4 GiB.
      const h3 = localHeader('after.txt', tail.length, crc32(tail), false);
      members.push({ name: 'after.txt', size: tail.length, crc: crc32(tail), localHeaderOffset: position });
      await put(Buffer.concat([h3, tail]), position);
      position += h3.length + tail.length;
      const central = Buffer.concat(members.map(centralHeader));
      await put(Buffer.concat([central, endRecords(members.length, position, central.length)]), position);
    } finally {
      await handle.close();
    }
  }, 120_000);

  afterAll(() => remove());

  it('is a sparse file of more than 4 GiB', async () => {
    const info = await stat(file);
    expect(info.size).toBeGreaterThan(4.5 * GiB);
    expect(info.blocks * 512).toBeLessThan(64 * 1024 * 1024);
  });

  it('opens, lists the members and reads a stored member at random offsets, beyond 4 GiB too', async () => {
    const rssBefore = process.memoryUsage().rss;
    const ioBefore = readIoBytes();
    const archive = await IpswArchive.open(file);
    try {
      expect(archive.members().map((m) => [m.name, m.size, m.stored])).toEqual([
        ['Restore.plist', small.length, true],
        ['os.dmg', OS_SIZE, true],
        ['after.txt', tail.length, true],
      ]);
      const source = await archive.memberSource('os.dmg');
      expect(source.size).toBe(OS_SIZE);
      let requested = 0;
      for (const [offset, marker] of markers) {
        // The marker, with a few zero bytes around it where there is room.
        const start = Math.max(0, offset - 7);
        const bytes = await source.read(start, MARKER + 14);
        requested += MARKER + 14;
        const expected = Buffer.concat([
          Buffer.alloc(offset - start),
          marker,
          Buffer.alloc(14 - (offset - start)),
        ]).subarray(0, Math.min(MARKER + 14, OS_SIZE - start));
        expect(bytes.equals(expected)).toBe(true);
      }
      // Zeros between markers, straddling the 4 GiB line.
      const around4G = await source.read(4 * GiB - 4096, 4096 - 5);
      requested += 4096;
      expect(around4G.equals(Buffer.alloc(4096 - 5))).toBe(true);
      // Reading past the end is clipped.
      expect((await source.read(OS_SIZE - 10, 100)).length).toBe(10);
      // Small members before and after the big one (the second one's header is beyond 4 GiB).
      expect(await archive.readMember('Restore.plist')).toEqual(small);
      expect(await archive.readMember('after.txt')).toEqual(tail);
      requested += small.length + tail.length;
      await archive.verifyMember('after.txt');

      const ioRead = readIoBytes() - ioBefore;
      const rssGrowth = process.memoryUsage().rss - rssBefore;
      // Central directory + headers + the ranges asked for: far below the 4.5 GiB file.
      expect(ioRead).toBeLessThan(16 * 1024 * 1024 + requested);
      expect(rssGrowth).toBeLessThan(128 * 1024 * 1024);
    } finally {
      await archive.close();
    }
  });

  it('checks the 4.5 GiB member against its CRC by streaming it (bounded memory)', async () => {
    const archive = await IpswArchive.open(file);
    try {
      const rssBefore = process.memoryUsage().rss;
      let seen = 0;
      await archive.verifyMember('os.dmg', (bytes) => (seen += bytes));
      expect(seen).toBe(OS_SIZE);
      expect(process.memoryUsage().rss - rssBefore).toBeLessThan(256 * 1024 * 1024);
    } finally {
      await archive.close();
    }
  }, 120_000);

  it('refuses to read the big member whole', async () => {
    const archive = await IpswArchive.open(file);
    try {
      await expect(archive.readMember('os.dmg')).rejects.toThrow(/more than the 268435456-byte limit/);
    } finally {
      await archive.close();
    }
  });
});
