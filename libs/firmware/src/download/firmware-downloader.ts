// Downloads IPSWs into the firmware cache (restore-protocol §7.5): resumes an interrupted transfer
// with an HTTP Range request, verifies SHA-1/SHA-256, downloads again once after a checksum
// mismatch and then gives up with FirmwareInvalidError, and runs one transfer per file however
// many callers ask for it at once. The file is written as `<name>.part` and renamed only once
// verified, so a cached name always means a verified file.
import { createHash, type Hash } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { createReadStream } from 'node:fs';
import { mkdir, open, rename, rm, stat, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { CancelledError, FirmwareInvalidError } from '@bench/bench-domain';
import { FirmwareServiceError } from '../errors';
import { FirmwareCache, type CachedFirmware } from './firmware-cache';

export interface DownloadRequest {
  url: string;
  /** Name in the cache (default: the last path segment of the URL). */
  fileName?: string;
  size?: number;
  sha1?: string;
  sha256?: string;
}

export interface DownloadProgress {
  fileName: string;
  url: string;
  bytes: number;
  total?: number;
}

export interface FirmwareDownloaderOptions {
  dir: string;
  cacheLimitBytes: number;
  fetch?: typeof fetch;
  /** Tries per transfer when the connection fails without progress (default 5). */
  networkAttempts?: number;
  retryDelayMs?: number;
  /** Abort a connection that delivers nothing for this long (default 60 s). */
  stallTimeoutMs?: number;
}

export interface DownloadCallOptions {
  signal?: AbortSignal;
  onProgress?: (progress: DownloadProgress) => void;
}

interface Flight {
  promise: Promise<string>;
  controller: AbortController;
  waiters: number;
  listeners: Set<(progress: DownloadProgress) => void>;
}

/** A transfer attempt that failed in a way worth retrying (connection dropped, 5xx). */
class RetryableTransferError extends Error {}

export class FirmwareDownloader extends EventEmitter<{ progress: [DownloadProgress]; evicted: [string] }> {
  readonly cache: FirmwareCache;
  private readonly flights = new Map<string, Flight>();
  private readonly fetchImpl: typeof fetch;
  private readonly networkAttempts: number;
  private readonly retryDelayMs: number;
  private readonly stallTimeoutMs: number;

  constructor(options: FirmwareDownloaderOptions) {
    super();
    this.cache = new FirmwareCache(options.dir, options.cacheLimitBytes);
    this.fetchImpl = options.fetch ?? fetch;
    this.networkAttempts = Math.max(1, options.networkAttempts ?? 5);
    this.retryDelayMs = options.retryDelayMs ?? 1000;
    this.stallTimeoutMs = options.stallTimeoutMs ?? 60_000;
  }

  /** The verified file's path; concurrent calls for the same file share one transfer. */
  download(request: DownloadRequest, options: DownloadCallOptions = {}): Promise<string> {
    const fileName = request.fileName ?? fileNameOf(request.url);
    this.cache.pathOf(fileName); // validates the name before anything starts
    let flight = this.flights.get(fileName);
    if (!flight) {
      const controller = new AbortController();
      const listeners = new Set<(progress: DownloadProgress) => void>();
      const promise = this.obtain({ ...request, fileName }, controller.signal, (progress) => {
        this.emit('progress', progress);
        for (const listener of listeners) listener(progress);
      }).finally(() => this.flights.delete(fileName));
      flight = { promise, controller, waiters: 0, listeners };
      this.flights.set(fileName, flight);
    }
    return this.join(flight, options);
  }

  async cached(): Promise<CachedFirmware[]> {
    return this.cache.list();
  }

  private join(flight: Flight, options: DownloadCallOptions): Promise<string> {
    flight.waiters++;
    if (options.onProgress) flight.listeners.add(options.onProgress);
    const leave = (): void => {
      if (options.onProgress) flight.listeners.delete(options.onProgress);
      flight.waiters--;
      // The transfer stops only when nobody is waiting for it any more.
      if (flight.waiters === 0) flight.controller.abort(new CancelledError('download cancelled'));
    };
    const signal = options.signal;
    if (!signal) return flight.promise.finally(() => flight.waiters--);
    if (signal.aborted) {
      leave();
      return Promise.reject(new CancelledError('download cancelled'));
    }
    return new Promise<string>((resolve, reject) => {
      const onAbort = (): void => {
        leave();
        reject(new CancelledError('download cancelled'));
      };
      signal.addEventListener('abort', onAbort, { once: true });
      flight.promise.then(
        (value) => {
          signal.removeEventListener('abort', onAbort);
          flight.waiters--;
          resolve(value);
        },
        (error: unknown) => {
          signal.removeEventListener('abort', onAbort);
          flight.waiters--;
          reject(error);
        },
      );
    });
  }

  private async obtain(
    request: DownloadRequest & { fileName: string },
    signal: AbortSignal,
    progress: (p: DownloadProgress) => void,
  ): Promise<string> {
    const { fileName } = request;
    await mkdir(this.cache.dir, { recursive: true });
    const release = this.cache.pin(fileName);
    try {
      const target = this.cache.pathOf(fileName);
      if (await this.reusable(request, target)) {
        await this.cache.markUsed(fileName);
        return target;
      }
      await this.evict(request.size ?? 0, fileName);
      let mismatch: string | undefined;
      for (let round = 1; round <= 2; round++) {
        const digests = await this.transfer(request, signal, progress);
        mismatch = checksumMismatch(request, digests);
        if (!mismatch) {
          await rename(this.cache.partPathOf(fileName), target);
          await this.cache.writeRecord(fileName, {
            url: request.url,
            size: digests.size,
            sha1: digests.sha1,
            sha256: digests.sha256,
            verifiedAt: new Date().toISOString(),
          });
          await this.cache.markUsed(fileName);
          await this.evict(0, fileName);
          return target;
        }
        // A corrupt file is never resumed from: the next round starts from byte 0.
        await rm(this.cache.partPathOf(fileName), { force: true });
      }
      throw new FirmwareInvalidError(`${fileName} failed verification twice (${mismatch})`, {
        detail: request.url,
      });
    } finally {
      release();
    }
  }

  private async evict(incoming: number, keep: string): Promise<void> {
    for (const fileName of await this.cache.makeRoom(incoming, keep)) this.emit('evicted', fileName);
  }

  /** Whether the cached file can be used as is (verified before, or verifies now). */
  private async reusable(request: DownloadRequest & { fileName: string }, target: string): Promise<boolean> {
    const info = await stat(target).catch(() => undefined);
    if (!info?.isFile()) return false;
    if (request.size !== undefined && info.size !== request.size) return false;
    const record = await this.cache.readRecord(request.fileName);
    const recorded =
      record !== undefined &&
      record.size === info.size &&
      (request.sha1 === undefined || record.sha1 === request.sha1.toLowerCase()) &&
      (request.sha256 === undefined || record.sha256 === request.sha256.toLowerCase());
    if (recorded) return true;
    const digests = await hashFile(target, info.size);
    if (checksumMismatch(request, digests)) {
      await this.cache.remove(request.fileName);
      return false;
    }
    await this.cache.writeRecord(request.fileName, {
      url: request.url,
      ...digests,
      verifiedAt: new Date().toISOString(),
    });
    return true;
  }

  /**
   * Fetches the file into `<name>.part`, resuming from what is already there. Connection failures
   * are retried (with a Range request); attempts are counted only while no bytes arrive.
   */
  private async transfer(
    request: DownloadRequest & { fileName: string },
    signal: AbortSignal,
    progress: (p: DownloadProgress) => void,
  ): Promise<{ size: number; sha1: string; sha256: string }> {
    const part = this.cache.partPathOf(request.fileName);
    let offset = (await stat(part).catch(() => undefined))?.size ?? 0;
    const hashes = { sha1: createHash('sha1'), sha256: createHash('sha256') };
    if (offset > 0) await hashPrefix(part, offset, [hashes.sha1, hashes.sha256]);
    const handle = await open(part, offset > 0 ? 'r+' : 'w');
    try {
      let failures = 0;
      for (;;) {
        throwIfAborted(signal);
        const before = offset;
        try {
          offset = await this.fetchFrom(request, offset, handle, hashes, signal, progress);
          return { size: offset, sha1: hashes.sha1.digest('hex'), sha256: hashes.sha256.digest('hex') };
        } catch (error) {
          throwIfAborted(signal);
          if (!(error instanceof RetryableTransferError)) throw error;
          offset = (await handle.stat()).size;
          failures = offset > before ? 1 : failures + 1;
          if (failures >= this.networkAttempts) {
            throw new FirmwareServiceError(
              `downloading ${request.url} failed ${failures} times in a row: ${error.message}`,
              { detail: request.url },
              { cause: error },
            );
          }
          await pause(this.retryDelayMs, signal);
        }
      }
    } finally {
      await handle.close();
    }
  }

  /** One HTTP request from `offset` on. Returns the new end offset. */
  private async fetchFrom(
    request: DownloadRequest & { fileName: string },
    offset: number,
    handle: FileHandle,
    hashes: { sha1: Hash; sha256: Hash },
    signal: AbortSignal,
    progress: (p: DownloadProgress) => void,
  ): Promise<number> {
    const stall = new AbortController();
    let stallTimer = setTimeout(() => stall.abort(), this.stallTimeoutMs);
    const headers: Record<string, string> = { 'accept-encoding': 'identity' };
    if (offset > 0) headers.range = `bytes=${offset}-`;
    let response: Response;
    try {
      response = await this.fetchImpl(request.url, {
        headers,
        signal: AbortSignal.any([signal, stall.signal]),
      });
    } catch (error) {
      clearTimeout(stallTimer);
      throwIfAborted(signal);
      throw new RetryableTransferError(`cannot connect: ${(error as Error).message}`);
    }
    if (offset > 0 && response.status === 416 && request.size === offset) {
      clearTimeout(stallTimer);
      return offset;
    }
    if (response.status >= 500) {
      clearTimeout(stallTimer);
      throw new RetryableTransferError(`HTTP ${response.status}`);
    }
    if (response.status !== 200 && response.status !== 206) {
      clearTimeout(stallTimer);
      throw new FirmwareServiceError(
        `the firmware server answered HTTP ${response.status} for ${request.url}`,
        {
          detail: request.url,
          statusCode: response.status,
        },
      );
    }
    // A server that ignores Range sends the whole file again: start over.
    if (offset > 0 && response.status === 200) {
      await handle.truncate(0);
      offset = 0;
      hashes.sha1 = createHash('sha1');
      hashes.sha256 = createHash('sha256');
    }
    const total = totalSize(response, offset) ?? request.size;
    const body = response.body;
    if (!body) throw new RetryableTransferError('response has no body');
    try {
      for await (const chunk of body) {
        clearTimeout(stallTimer);
        stallTimer = setTimeout(() => stall.abort(), this.stallTimeoutMs);
        const bytes = Buffer.from(chunk);
        await writeAll(handle, bytes, offset);
        hashes.sha1.update(bytes);
        hashes.sha256.update(bytes);
        offset += bytes.length;
        progress({ fileName: request.fileName, url: request.url, bytes: offset, total });
      }
    } catch (error) {
      throwIfAborted(signal);
      throw new RetryableTransferError(`connection lost at byte ${offset}: ${(error as Error).message}`);
    } finally {
      clearTimeout(stallTimer);
    }
    if (total !== undefined && offset < total) {
      throw new RetryableTransferError(`connection closed at byte ${offset} of ${total}`);
    }
    return offset;
  }
}

function totalSize(response: Response, offset: number): number | undefined {
  const range = response.headers.get('content-range');
  const match = range ? /\/(\d+)\s*$/.exec(range) : null;
  if (match) return Number(match[1]);
  const length = response.headers.get('content-length');
  return length !== null && /^\d+$/.test(length) ? offset + Number(length) : undefined;
}

function checksumMismatch(
  request: DownloadRequest,
  digests: { size: number; sha1?: string; sha256?: string },
): string | undefined {
  if (request.size !== undefined && digests.size !== request.size) {
    return `size ${digests.size}, expected ${request.size}`;
  }
  if (request.sha256 && digests.sha256 !== request.sha256.toLowerCase()) {
    return `SHA-256 ${digests.sha256}, expected ${request.sha256.toLowerCase()}`;
  }
  if (request.sha1 && digests.sha1 !== request.sha1.toLowerCase()) {
    return `SHA-1 ${digests.sha1}, expected ${request.sha1.toLowerCase()}`;
  }
  return undefined;
}

async function writeAll(handle: FileHandle, bytes: Buffer, position: number): Promise<void> {
  let written = 0;
  while (written < bytes.length) {
    const { bytesWritten } = await handle.write(bytes, written, bytes.length - written, position + written);
    written += bytesWritten;
  }
}

async function hashPrefix(file: string, length: number, hashes: Hash[]): Promise<void> {
  if (length === 0) return;
  for await (const chunk of createReadStream(file, { start: 0, end: length - 1 })) {
    for (const hash of hashes) hash.update(chunk as Buffer);
  }
}

/** SHA-1 and SHA-256 of a whole file, streamed. */
export async function hashFile(
  file: string,
  size?: number,
): Promise<{ size: number; sha1: string; sha256: string }> {
  const sha1 = createHash('sha1');
  const sha256 = createHash('sha256');
  let bytes = 0;
  for await (const chunk of createReadStream(file)) {
    sha1.update(chunk as Buffer);
    sha256.update(chunk as Buffer);
    bytes += (chunk as Buffer).length;
  }
  return { size: size ?? bytes, sha1: sha1.digest('hex'), sha256: sha256.digest('hex') };
}

export function fileNameOf(url: string): string {
  const name = decodeURIComponent(path.posix.basename(new URL(url).pathname));
  if (!name || name.startsWith('.')) throw new RangeError(`cannot name a cache file after ${url}`);
  return name;
}

function throwIfAborted(signal: AbortSignal): void {
  if (signal.aborted) throw new CancelledError('download cancelled', {}, { cause: signal.reason });
}

function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(new CancelledError('download cancelled'));
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
