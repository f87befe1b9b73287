// Which IPSW each restore attempt opened, and its SHA-256, for the record (reports and restore
// certificates name it). The firmware store the engine uses is wrapped so that opening an IPSW
// inside an attempt (an AsyncLocalStorage scope per run) notes the file. The hash comes from the
// firmware cache's verified record when there is one; otherwise the file is hashed once, in the
// background while the restore runs, and the result is kept per path, size and mtime: a 5 GB
// IPSW is never read again for every restore.
import { AsyncLocalStorage } from 'node:async_hooks';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import type { IpswRecord } from '@bench/events';
import { FirmwareCache, type FirmwareStore } from '@bench/firmware';

interface Digest {
  size: number;
  mtimeMs: number;
  promise: Promise<IpswRecord | undefined>;
  result?: IpswRecord;
}

export class IpswDigests {
  private readonly scope = new AsyncLocalStorage<string>();
  private readonly byPath = new Map<string, Digest>();
  private readonly byRun = new Map<string, Promise<Digest | undefined>>();

  /** The same store, noting the IPSW each attempt (run inside {@link within}) opens. */
  track(store: FirmwareStore): FirmwareStore {
    return {
      resolve: (productType, build, options) => store.resolve(productType, build, options),
      open: (firmware) => {
        const runId = this.scope.getStore();
        if (runId) this.byRun.set(runId, this.digestOf(firmware.path));
        return store.open(firmware);
      },
    };
  }

  /** Runs an attempt of a run so that the IPSW it opens is noted under the run. */
  within<T>(runId: string, attempt: () => Promise<T>): Promise<T> {
    return this.scope.run(runId, attempt);
  }

  /**
   * The IPSW the run's attempt opened (and forgets it): waits up to `waitMs` for its hash, which
   * is usually ready long before the restore ends; undefined when unknown or not ready in time.
   */
  async takeRecord(runId: string, waitMs: number): Promise<IpswRecord | undefined> {
    const pending = this.byRun.get(runId);
    this.byRun.delete(runId);
    const digest = await pending;
    if (!digest || digest.result || waitMs <= 0) return digest?.result;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<undefined>(
      (resolve) => (timer = setTimeout(() => resolve(undefined), waitMs)),
    );
    try {
      return await Promise.race([digest.promise, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  forget(runId: string): void {
    this.byRun.delete(runId);
  }

  private async digestOf(file: string): Promise<Digest | undefined> {
    const info = await stat(file).catch(() => undefined);
    if (!info?.isFile()) return undefined;
    const known = this.byPath.get(file);
    if (known && known.size === info.size && known.mtimeMs === info.mtimeMs) return known;
    const digest: Digest = { size: info.size, mtimeMs: info.mtimeMs, promise: recordOf(file, info.size) };
    void digest.promise.then((result) => (digest.result = result));
    this.byPath.set(file, digest);
    return digest;
  }
}

/** From the firmware cache's record of the file when it has one, else by reading it once. */
async function recordOf(file: string, size: number): Promise<IpswRecord | undefined> {
  const fileName = path.basename(file);
  const verified = await new FirmwareCache(path.dirname(file), Number.POSITIVE_INFINITY).readRecord(fileName);
  if (verified?.sha256 && verified.size === size)
    return { fileName, sizeBytes: size, sha256: verified.sha256 };
  try {
    const hash = createHash('sha256');
    for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
    return { fileName, sizeBytes: size, sha256: hash.digest('hex') };
  } catch {
    // The record then names no hash: a report says "unknown" rather than a restore failing.
    return undefined;
  }
}
