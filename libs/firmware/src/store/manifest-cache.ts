// Parsed BuildManifests, shared by every restore of the same IPSW. A real manifest is 0.3–2 MB of
// XML; parsing it costs a few hundred ms of CPU in one synchronous block (the event loop of an
// agent with 64 ports waits meanwhile) and its parsed form is held for the whole restore. A bench
// restores the same IPSW on many phones, so it is parsed once per file (and again only when the
// file changes: the key includes size, mtime and inode) and the one copy is shared, frozen so
// that no restore can change what another one reads.
import type { BigIntStats } from 'node:fs';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import type { IpswArchive } from '../ipsw/ipsw-archive';
import type { BuildManifest } from '../manifest/build-manifest';

/** IPSWs whose manifests are kept (a bench restores one or two builds at a time). */
const DEFAULT_ENTRIES = 8;

export class ManifestCache {
  private readonly entries = new Map<string, Promise<BuildManifest>>();

  constructor(private readonly maxEntries = DEFAULT_ENTRIES) {}

  /** The manifest of the IPSW at `file`, parsed by `read` once per version of that file. */
  async get(file: string, read: () => Promise<BuildManifest>): Promise<BuildManifest> {
    let info: BigIntStats;
    try {
      info = await stat(file, { bigint: true });
    } catch {
      return read(); // not cached: the reader reports the missing or unreadable file its own way
    }
    const key = [path.resolve(file), info.size, info.mtimeNs, info.ino, info.dev].join('\0');
    let entry = this.entries.get(key);
    if (entry) {
      // most recently used last
      this.entries.delete(key);
      this.entries.set(key, entry);
      return entry;
    }
    entry = read().then(deepFreeze);
    this.entries.set(key, entry);
    entry.catch(() => {
      if (this.entries.get(key) === entry) this.entries.delete(key);
    });
    while (this.entries.size > this.maxEntries)
      this.entries.delete(this.entries.keys().next().value as string);
    return entry;
  }

  /** The archive's manifest (BuildManifest.plist or BuildManifesto.plist), parsed once per file version. */
  manifestOf(archive: IpswArchive): Promise<BuildManifest> {
    return this.get(archive.path, () => archive.readBuildManifest());
  }

  clear(): void {
    this.entries.clear();
  }
}

/** The process-wide cache the firmware stores use. */
export const manifestCache = new ManifestCache();

function deepFreeze<T>(value: T): T {
  if (typeof value !== 'object' || value === null || Object.isFrozen(value) || ArrayBuffer.isView(value))
    return value;
  for (const item of Object.values(value)) deepFreeze(item);
  return Object.freeze(value);
}
