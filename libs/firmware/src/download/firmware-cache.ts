// The firmware cache directory: finished IPSWs, a sidecar per file recording what was verified,
// and `.part` files of interrupted downloads. "Last use" is the file's mtime, which bench sets
// whenever it hands the file out (so no index file can go stale or be torn by two processes);
// eviction removes least recently used files until the directory fits its size limit, never a
// file that is being downloaded or is open.
import { readdir, rm, stat, utimes, writeFile, readFile } from 'node:fs/promises';
import path from 'node:path';

export interface CachedFirmware {
  fileName: string;
  path: string;
  size: number;
  lastUsed: Date;
}

export interface VerifiedRecord {
  url: string;
  size: number;
  sha1?: string;
  sha256?: string;
  verifiedAt: string;
}

export class FirmwareCache {
  private readonly pins = new Map<string, number>();

  constructor(
    readonly dir: string,
    readonly limitBytes: number,
  ) {}

  pathOf(fileName: string): string {
    if (fileName !== path.basename(fileName) || fileName.startsWith('.') || fileName === '') {
      throw new RangeError(`'${fileName}' is not a plain file name for the firmware cache`);
    }
    return path.join(this.dir, fileName);
  }

  partPathOf(fileName: string): string {
    return `${this.pathOf(fileName)}.part`;
  }

  private recordPathOf(fileName: string): string {
    return path.join(this.dir, `.${fileName}.verified.json`);
  }

  async readRecord(fileName: string): Promise<VerifiedRecord | undefined> {
    try {
      return JSON.parse(await readFile(this.recordPathOf(fileName), 'utf8')) as VerifiedRecord;
    } catch {
      return undefined;
    }
  }

  async writeRecord(fileName: string, record: VerifiedRecord): Promise<void> {
    await writeFile(this.recordPathOf(fileName), `${JSON.stringify(record, null, 2)}\n`);
  }

  /** Marks a file as just used (its mtime is its place in the LRU order). */
  async markUsed(fileName: string, when = new Date()): Promise<void> {
    await utimes(this.pathOf(fileName), when, when).catch(() => undefined);
  }

  /** Protects a file from eviction until the returned function is called. */
  pin(fileName: string): () => void {
    this.pins.set(fileName, (this.pins.get(fileName) ?? 0) + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (this.pins.get(fileName) ?? 1) - 1;
      if (left <= 0) this.pins.delete(fileName);
      else this.pins.set(fileName, left);
    };
  }

  /** Finished files (not partial downloads, not sidecars), least recently used first. */
  async list(): Promise<CachedFirmware[]> {
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch {
      return [];
    }
    const files = await Promise.all(
      names
        .filter((name) => !name.startsWith('.') && !name.endsWith('.part'))
        .map(async (name) => {
          const info = await stat(path.join(this.dir, name)).catch(() => undefined);
          return info?.isFile()
            ? { fileName: name, path: path.join(this.dir, name), size: info.size, lastUsed: info.mtime }
            : undefined;
        }),
    );
    return files
      .filter((f): f is CachedFirmware => f !== undefined)
      .sort((a, b) => a.lastUsed.getTime() - b.lastUsed.getTime());
  }

  async usedBytes(): Promise<number> {
    return (await this.list()).reduce((sum, f) => sum + f.size, 0);
  }

  /**
   * Evicts least recently used files until `incomingBytes` more would fit under the limit.
   * Pinned files and `keep` stay. Returns the evicted file names.
   */
  async makeRoom(incomingBytes = 0, keep?: string): Promise<string[]> {
    const files = await this.list();
    let total = files.reduce((sum, f) => sum + f.size, 0) + incomingBytes;
    const evicted: string[] = [];
    for (const file of files) {
      if (total <= this.limitBytes) break;
      if (file.fileName === keep || this.pins.has(file.fileName)) continue;
      await this.remove(file.fileName);
      total -= file.size;
      evicted.push(file.fileName);
    }
    return evicted;
  }

  async remove(fileName: string): Promise<void> {
    await rm(this.pathOf(fileName), { force: true });
    await rm(this.recordPathOf(fileName), { force: true });
  }
}
