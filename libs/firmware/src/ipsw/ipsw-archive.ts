// An IPSW (a zip, Zip64 when over 4 GiB) opened for a restore: list members, read small ones
// whole, and give random access into stored members for ASR (restore-protocol §7.1). yauzl reads
// the central directory; random-access reads go through our own file handle at the member's data
// offset (found once from its local header), so a multi-GB OS image is never read whole.
import { createWriteStream } from 'node:fs';
import { mkdir, open, rename, stat, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { crc32 } from 'node:zlib';
import yauzl from 'yauzl';
import { FirmwareInvalidError, type RandomAccessSource } from '@bench/bench-domain';
import { parseBuildManifest, type BuildManifest } from '../manifest/build-manifest';
import { parseRestorePlist, type RestorePlist } from '../manifest/restore-plist';
import { FileRegionSource } from './file-source';

export const COMPRESSION_STORED = 0;
export const COMPRESSION_DEFLATED = 8;
/** Small members (plists, IM4Ps) are read whole; this guards against reading an OS image that way. */
export const DEFAULT_MAX_MEMBER_BYTES = 256 * 1024 * 1024;
const VERIFY_CHUNK = 8 * 1024 * 1024;
/** Names tried for the manifest; idevicerestore 1.0.0 prefers the legacy one (notes §1.4). */
export const MANIFEST_NAMES = ['BuildManifest.plist', 'BuildManifesto.plist'] as const;

export interface IpswMember {
  name: string;
  size: number;
  compressedSize: number;
  compressionMethod: number;
  crc32: number;
  stored: boolean;
}

export interface MemberSourceOptions {
  /**
   * For a deflated member: extract it once to `<extractDir>/<ipsw name>/<member>` (reused when
   * the size matches) and read from there. Without it a deflated member is refused.
   */
  extractDir?: string;
}

export class IpswArchive {
  private readonly entries = new Map<string, yauzl.Entry>();
  private readonly dataStarts = new Map<string, number>();
  private readonly handles: FileHandle[] = [];
  private handle?: Promise<FileHandle>;

  private constructor(
    readonly path: string,
    readonly size: number,
    private readonly zip: yauzl.ZipFile,
    entries: yauzl.Entry[],
  ) {
    for (const entry of entries) this.entries.set(entry.fileName, entry);
  }

  /** Opens the zip and reads its central directory; a file that is not a zip is FirmwareInvalidError. */
  static async open(file: string): Promise<IpswArchive> {
    let size: number;
    try {
      size = (await stat(file)).size;
    } catch (error) {
      throw new FirmwareInvalidError(
        `cannot open IPSW ${file}: ${(error as Error).message}`,
        { detail: file },
        { cause: error },
      );
    }
    let zip: yauzl.ZipFile;
    try {
      zip = await yauzl.openPromise(file, { lazyEntries: true, autoClose: false, validateEntrySizes: true });
    } catch (error) {
      throw corrupt(file, error);
    }
    try {
      return new IpswArchive(file, size, zip, await readAllEntries(zip));
    } catch (error) {
      zip.close();
      throw corrupt(file, error);
    }
  }

  members(): IpswMember[] {
    return [...this.entries.values()].map(describeEntry);
  }

  has(name: string): boolean {
    return this.entries.has(name);
  }

  member(name: string): IpswMember {
    return describeEntry(this.entry(name));
  }

  /** A whole member in memory (stored or deflated), CRC-checked. For plists and IM4Ps, not the OS. */
  async readMember(name: string, options: { maxBytes?: number } = {}): Promise<Buffer> {
    const entry = this.entry(name);
    const max = options.maxBytes ?? DEFAULT_MAX_MEMBER_BYTES;
    if (entry.uncompressedSize > max) {
      throw new FirmwareInvalidError(
        `${this.label(name)} is ${entry.uncompressedSize} bytes, more than the ${max}-byte limit for reading whole`,
        { detail: name },
      );
    }
    const chunks: Buffer[] = [];
    for await (const chunk of await this.openMemberStream(name)) chunks.push(chunk as Buffer);
    const data = Buffer.concat(chunks);
    this.checkCrc(entry, crc32(data));
    return data;
  }

  /** The member's (decompressed) bytes as a stream; not CRC-checked (see verifyMember). */
  async openMemberStream(name: string): Promise<Readable> {
    const entry = this.entry(name);
    try {
      return await this.zip.openReadStreamPromise(entry);
    } catch (error) {
      throw corrupt(this.label(name), error);
    }
  }

  /**
   * Random access into a member. A stored member is read in place in the zip; a deflated one is
   * extracted first when `extractDir` is given, and refused otherwise.
   */
  async memberSource(name: string, options: MemberSourceOptions = {}): Promise<RandomAccessSource> {
    const entry = this.entry(name);
    if (entry.compressionMethod === COMPRESSION_STORED) {
      return new FileRegionSource(
        await this.fileHandle(),
        await this.dataStart(entry),
        entry.uncompressedSize,
        this.label(name),
      );
    }
    if (options.extractDir === undefined) {
      throw new FirmwareInvalidError(
        `${this.label(name)} is compressed (method ${entry.compressionMethod}); random access needs a stored member. ` +
          'Real IPSWs store their images; re-zip without compression (zip -0) or give an extraction directory.',
        { detail: name },
      );
    }
    return this.extractedSource(entry, options.extractDir);
  }

  /** Streams the member through CRC-32 and compares with the central directory. */
  async verifyMember(name: string, onBytes?: (bytes: number) => void): Promise<void> {
    const entry = this.entry(name);
    let crc = 0;
    if (entry.compressionMethod === COMPRESSION_STORED) {
      // Large sequential reads straight from the file: several times faster than a zip stream.
      const source = await this.memberSource(name);
      for (let offset = 0; offset < source.size; offset += VERIFY_CHUNK) {
        const chunk = await source.read(offset, VERIFY_CHUNK);
        crc = crc32(chunk, crc);
        onBytes?.(chunk.length);
      }
    } else {
      await pipeline(
        await this.openMemberStream(name),
        new Transform({
          transform(chunk: Buffer, _encoding, callback) {
            crc = crc32(chunk, crc);
            onBytes?.(chunk.length);
            callback();
          },
        }),
      ).catch((error: unknown) => {
        throw corrupt(this.label(name), error);
      });
    }
    this.checkCrc(entry, crc);
  }

  /** Verifies every member's CRC; `onProgress` gets the bytes checked so far and the total. */
  async verify(onProgress?: (done: number, total: number) => void): Promise<void> {
    const total = [...this.entries.values()].reduce((sum, e) => sum + e.uncompressedSize, 0);
    let done = 0;
    for (const name of this.entries.keys()) {
      await this.verifyMember(name, (bytes) => {
        done += bytes;
        onProgress?.(done, total);
      });
    }
  }

  /** BuildManifest.plist, or BuildManifesto.plist when that is all the IPSW has. */
  async readBuildManifest(): Promise<BuildManifest> {
    const name = MANIFEST_NAMES.find((candidate) => this.has(candidate));
    if (!name)
      throw new FirmwareInvalidError(`${this.path} has no BuildManifest.plist`, { detail: this.path });
    return parseBuildManifest(
      await this.readMember(name, { maxBytes: 64 * 1024 * 1024 }),
      `${path.basename(this.path)}:${name}`,
    );
  }

  async readRestorePlist(): Promise<RestorePlist | undefined> {
    if (!this.has('Restore.plist')) return undefined;
    return parseRestorePlist(await this.readMember('Restore.plist', { maxBytes: 16 * 1024 * 1024 }));
  }

  async close(): Promise<void> {
    this.zip.close();
    const handles = [...this.handles];
    if (this.handle) handles.push(await this.handle);
    this.handle = undefined;
    this.handles.length = 0;
    await Promise.all(handles.map((h) => h.close().catch(() => undefined)));
  }

  private entry(name: string): yauzl.Entry {
    const entry = this.entries.get(name);
    if (!entry)
      throw new FirmwareInvalidError(`${path.basename(this.path)} has no member '${name}'`, { detail: name });
    return entry;
  }

  private fileHandle(): Promise<FileHandle> {
    this.handle ??= open(this.path, 'r');
    return this.handle;
  }

  private async dataStart(entry: yauzl.Entry): Promise<number> {
    const known = this.dataStarts.get(entry.fileName);
    if (known !== undefined) return known;
    let start: number;
    try {
      ({ fileDataStart: start } = await this.zip.readLocalFileHeaderPromise(entry, { minimal: true }));
    } catch (error) {
      throw corrupt(this.label(entry.fileName), error);
    }
    if (start + entry.compressedSize > this.size) {
      throw new FirmwareInvalidError(
        `${this.label(entry.fileName)} runs past the end of the file (truncated IPSW?)`,
        {
          detail: entry.fileName,
        },
      );
    }
    this.dataStarts.set(entry.fileName, start);
    return start;
  }

  private async extractedSource(entry: yauzl.Entry, extractDir: string): Promise<RandomAccessSource> {
    const target = path.join(extractDir, path.basename(this.path).replace(/\.ipsw$/i, ''), entry.fileName);
    if (!path.resolve(target).startsWith(path.resolve(extractDir) + path.sep)) {
      throw new FirmwareInvalidError(`member name '${entry.fileName}' escapes the extraction directory`, {
        detail: entry.fileName,
      });
    }
    const existing = await stat(target).catch(() => undefined);
    if (existing?.size !== entry.uncompressedSize) {
      await mkdir(path.dirname(target), { recursive: true });
      const partial = `${target}.extract`;
      let crc = 0;
      await pipeline(
        await this.openMemberStream(entry.fileName),
        new Transform({
          transform(chunk: Buffer, _encoding, callback) {
            crc = crc32(chunk, crc);
            callback(null, chunk);
          },
        }),
        createWriteStream(partial),
      ).catch((error: unknown) => {
        throw corrupt(this.label(entry.fileName), error);
      });
      this.checkCrc(entry, crc);
      await rename(partial, target);
    }
    const handle = await open(target, 'r');
    this.handles.push(handle);
    return new FileRegionSource(handle, 0, entry.uncompressedSize, target);
  }

  private checkCrc(entry: yauzl.Entry, actual: number): void {
    if (actual >>> 0 !== entry.crc32 >>> 0) {
      throw new FirmwareInvalidError(
        `${this.label(entry.fileName)} fails its CRC check (expected ${hex32(entry.crc32)}, got ${hex32(actual)}): the IPSW is corrupt`,
        { detail: entry.fileName },
      );
    }
  }

  private label(name: string): string {
    return `${path.basename(this.path)}:${name}`;
  }
}

function readAllEntries(zip: yauzl.ZipFile): Promise<yauzl.Entry[]> {
  return new Promise((resolve, reject) => {
    const entries: yauzl.Entry[] = [];
    zip.on('entry', (entry: yauzl.Entry) => {
      if (!entry.fileName.endsWith('/')) entries.push(entry);
      zip.readEntry();
    });
    zip.once('end', () => resolve(entries));
    zip.once('error', reject);
    zip.readEntry();
  });
}

function describeEntry(entry: yauzl.Entry): IpswMember {
  return {
    name: entry.fileName,
    size: entry.uncompressedSize,
    compressedSize: entry.compressedSize,
    compressionMethod: entry.compressionMethod,
    crc32: entry.crc32 >>> 0,
    stored: entry.compressionMethod === COMPRESSION_STORED,
  };
}

function corrupt(what: string, error: unknown): FirmwareInvalidError {
  if (error instanceof FirmwareInvalidError) return error;
  return new FirmwareInvalidError(
    `${what} is not a readable zip: ${error instanceof Error ? error.message : String(error)}`,
    { detail: what },
    { cause: error },
  );
}

function hex32(value: number): string {
  return `0x${(value >>> 0).toString(16).padStart(8, '0')}`;
}
