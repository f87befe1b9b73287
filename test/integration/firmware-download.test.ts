// Acceptance (firmware): the downloader against a real local HTTP server: resume after a dropped
// connection (Range), exactly one re-download after a checksum mismatch and then a typed error,
// ten concurrent requests for one IPSW → one transfer, LRU eviction over the cache limit. Plus the
// catalog client on the same kind of server.
import { createHash, randomBytes } from 'node:crypto';
import { readFile, readdir } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { CancelledError, FirmwareInvalidError, failureClassOf } from '@bench/bench-domain';
import {
  CatalogClient,
  CatalogFirmwareStore,
  FirmwareDownloader,
  FirmwareServiceError,
  LATEST_SIGNED,
  type DownloadProgress,
} from '@bench/firmware';
import { tempDir } from '@bench/testing';

type Handler = (request: IncomingMessage, response: ServerResponse) => void;

interface TestServer {
  url: string;
  hits: { path: string; range?: string }[];
  setHandler(handler: Handler): void;
  close(): Promise<void>;
}

async function startServer(): Promise<TestServer> {
  let handler: Handler = (_req, res) => res.writeHead(404).end();
  const hits: TestServer['hits'] = [];
  const server: Server = createServer((request, response) => {
    hits.push({ path: request.url ?? '', range: request.headers.range });
    handler(request, response);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    hits,
    setHandler: (h) => (handler = h),
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

/** Serves `body` honouring `Range: bytes=N-`, optionally dropping the connection after `cutAfter` bytes. */
function serveFile(
  body: Buffer,
  options: { cutAfter?: () => number | undefined; chunkDelayMs?: number } = {},
): Handler {
  return (request, response) => {
    const match = /^bytes=(\d+)-$/.exec(request.headers.range ?? '');
    const start = match ? Number(match[1]) : 0;
    const headers: Record<string, string | number> = {
      'content-type': 'application/octet-stream',
      'content-length': body.length - start,
      'accept-ranges': 'bytes',
    };
    if (match) headers['content-range'] = `bytes ${start}-${body.length - 1}/${body.length}`;
    response.writeHead(match ? 206 : 200, headers);
    const cut = options.cutAfter?.();
    const slice = body.subarray(start, cut === undefined ? body.length : start + cut);
    const chunks: Buffer[] = [];
    for (let i = 0; i < slice.length; i += 64 * 1024) chunks.push(slice.subarray(i, i + 64 * 1024));
    const next = (): void => {
      const chunk = chunks.shift();
      if (!chunk) {
        if (cut === undefined) response.end();
        else response.socket?.destroy(); // the dropped connection
        return;
      }
      response.write(chunk);
      if (options.chunkDelayMs) setTimeout(next, options.chunkDelayMs);
      else setImmediate(next);
    };
    next();
  };
}

const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
const sha1 = (b: Buffer): string => createHash('sha1').update(b).digest('hex');

// Real files, sockets and hashing: give a busy CI machine room.
jest.setTimeout(30_000);

describe('FirmwareDownloader', () => {
  let server: TestServer;
  let dirs: ReturnType<typeof tempDir>;

  beforeEach(async () => {
    server = await startServer();
    dirs = tempDir();
  });
  afterEach(async () => {
    await server.close();
    dirs.remove();
  });

  function downloader(limit = 1024 ** 3): FirmwareDownloader {
    return new FirmwareDownloader({
      dir: path.join(dirs.dir, 'cache'),
      cacheLimitBytes: limit,
      retryDelayMs: 20,
    });
  }

  it('resumes with a Range request after the server drops the connection mid-body', async () => {
    const body = randomBytes(3 * 1024 * 1024);
    let first = true;
    server.setHandler(
      serveFile(body, {
        cutAfter: () => {
          if (!first) return undefined;
          first = false;
          return 1024 * 1024;
        },
      }),
    );
    const progress: DownloadProgress[] = [];
    const file = await downloader().download(
      {
        url: `${server.url}/fw/iPhone10,1_18.6.2_22G100_Restore.ipsw`,
        size: body.length,
        sha256: sha256(body),
        sha1: sha1(body),
      },
      { onProgress: (p) => progress.push(p) },
    );
    expect(path.basename(file)).toBe('iPhone10,1_18.6.2_22G100_Restore.ipsw');
    expect((await readFile(file)).equals(body)).toBe(true);
    expect(server.hits).toHaveLength(2);
    expect(server.hits[0].range).toBeUndefined();
    const resumedAt = Number(/^bytes=(\d+)-$/.exec(server.hits[1].range ?? '')?.[1]);
    expect(resumedAt).toBeGreaterThan(0);
    expect(resumedAt).toBeLessThanOrEqual(1024 * 1024);
    expect(progress.at(-1)).toMatchObject({ bytes: body.length, total: body.length });
    // Nothing left but the file and its verification record.
    expect((await readdir(path.dirname(file))).filter((n) => !n.startsWith('.'))).toEqual([
      path.basename(file),
    ]);
  });

  it('downloads once more after a checksum mismatch, then fails with FirmwareInvalidError', async () => {
    const body = randomBytes(256 * 1024);
    server.setHandler(serveFile(body));
    const wrong = sha256(Buffer.from('not the file'));
    let caught: unknown;
    try {
      await downloader().download({ url: `${server.url}/bad.ipsw`, sha256: wrong });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(FirmwareInvalidError);
    expect(failureClassOf(caught)).toBe('firmware-invalid');
    expect((caught as Error).message).toMatch(/bad\.ipsw failed verification twice \(SHA-256/);
    expect(server.hits.map((h) => [h.path, h.range])).toEqual([
      ['/bad.ipsw', undefined],
      ['/bad.ipsw', undefined],
    ]);
    expect(await readdir(path.join(dirs.dir, 'cache'))).toEqual([]);
  });

  it('re-downloads after one corrupt transfer and succeeds', async () => {
    const body = randomBytes(128 * 1024);
    let served = 0;
    server.setHandler((request, response) => {
      served++;
      const copy = Buffer.from(body);
      if (served === 1) copy[1000] ^= 0xff; // corrupted in transit the first time
      serveFile(copy)(request, response);
    });
    const file = await downloader().download({ url: `${server.url}/flaky.ipsw`, sha1: sha1(body) });
    expect((await readFile(file)).equals(body)).toBe(true);
    expect(served).toBe(2);
  });

  it('runs one transfer for ten concurrent requests of the same IPSW', async () => {
    const body = randomBytes(1024 * 1024);
    server.setHandler(serveFile(body, { chunkDelayMs: 5 }));
    const d = downloader();
    const request = { url: `${server.url}/same.ipsw`, size: body.length, sha256: sha256(body) };
    const seen = new Set<number>();
    const paths = await Promise.all(
      Array.from({ length: 10 }, (_, i) => d.download(request, { onProgress: () => seen.add(i) })),
    );
    expect(new Set(paths).size).toBe(1);
    expect(server.hits).toHaveLength(1);
    expect(seen.size).toBe(10); // every caller saw progress of the one transfer
    // Later requests are served from the cache.
    await d.download(request);
    expect(server.hits).toHaveLength(1);
  });

  it('evicts the least recently used IPSW when the cache limit is exceeded', async () => {
    const files: Record<string, Buffer> = {
      'a.ipsw': randomBytes(1024 * 1024),
      'b.ipsw': randomBytes(1024 * 1024),
      'c.ipsw': randomBytes(1024 * 1024),
    };
    server.setHandler((request, response) =>
      serveFile(files[(request.url ?? '').slice(1)])(request, response),
    );
    const d = downloader(2.5 * 1024 * 1024);
    const evicted: string[] = [];
    d.on('evicted', (name) => evicted.push(name));
    const get = (name: string): Promise<string> =>
      d.download({ url: `${server.url}/${name}`, size: files[name].length, sha256: sha256(files[name]) });
    const tick = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 20)); // distinct mtimes
    await get('a.ipsw');
    await tick();
    await get('b.ipsw');
    await tick();
    await get('a.ipsw'); // a is used again: b is now the least recently used
    await tick();
    await get('c.ipsw');
    expect(evicted).toEqual(['b.ipsw']);
    expect((await d.cached()).map((f) => f.fileName)).toEqual(['a.ipsw', 'c.ipsw']);
    expect(server.hits.map((h) => h.path)).toEqual(['/a.ipsw', '/b.ipsw', '/c.ipsw']);
  });

  it('cancels when its only caller aborts', async () => {
    const body = randomBytes(2 * 1024 * 1024);
    server.setHandler(serveFile(body, { chunkDelayMs: 20 }));
    const controller = new AbortController();
    const pending = downloader().download({ url: `${server.url}/slow.ipsw` }, { signal: controller.signal });
    setTimeout(() => controller.abort(), 50);
    await expect(pending).rejects.toBeInstanceOf(CancelledError);
  });
});

describe('CatalogClient and CatalogFirmwareStore', () => {
  let server: TestServer;
  let dirs: ReturnType<typeof tempDir>;
  const ipsw = randomBytes(200 * 1024);

  beforeEach(async () => {
    server = await startServer();
    dirs = tempDir();
    server.setHandler((request, response) => {
      if (request.url === '/v4/device/iPhone10,1?type=ipsw') {
        const firmware = (version: string, buildid: string, signed: boolean): object => ({
          identifier: 'iPhone10,1',
          version,
          buildid,
          url: `${server.url}/ipsw/iPhone10,1_${version}_${buildid}_Restore.ipsw`,
          filesize: ipsw.length,
          sha1sum: sha1(ipsw),
          md5sum: 'x',
          signed,
          releasedate: '2025-01-01T00:00:00Z',
        });
        response.writeHead(200, { 'content-type': 'application/json' }).end(
          JSON.stringify({
            name: 'iPhone 8',
            identifier: 'iPhone10,1',
            firmwares: [
              firmware('16.7.10', '20H350', false),
              firmware('16.7.12', '20H364', true),
              firmware('16.7.11', '20H360', true),
            ],
          }),
        );
      } else if (request.url === '/v4/device/iPhone9,1?type=ipsw') {
        response
          .writeHead(200)
          .end(JSON.stringify({ name: 'x', identifier: 'iPhone9,1', firmwares: [{ version: 1 }] }));
      } else if (request.url?.startsWith('/ipsw/')) {
        serveFile(ipsw)(request, response);
      } else {
        response.writeHead(404).end();
      }
    });
  });
  afterEach(async () => {
    await server.close();
    dirs.remove();
  });

  it('lists builds, resolves the newest signed one, and the store downloads it', async () => {
    const catalog = new CatalogClient({ baseUrl: `${server.url}/v4/` });
    const firmwares = await catalog.listFirmwares('iPhone10,1');
    expect(firmwares.map((f) => [f.build, f.signed])).toEqual([
      ['20H350', false],
      ['20H364', true],
      ['20H360', true],
    ]);
    expect((await catalog.resolve('iPhone10,1', LATEST_SIGNED)).build).toBe('20H364');
    await expect(catalog.resolve('iPhone10,1', '99Z999')).rejects.toThrow(/no build 99Z999 for iPhone10,1/);
    const store = new CatalogFirmwareStore(
      catalog,
      new FirmwareDownloader({ dir: dirs.dir, cacheLimitBytes: 1024 ** 3 }),
    );
    const resolved = await store.resolve('iPhone10,1', LATEST_SIGNED);
    expect(resolved).toMatchObject({ productType: 'iPhone10,1', version: '16.7.12', build: '20H364' });
    expect((await readFile(resolved.path)).equals(ipsw)).toBe(true);
  });

  it('refuses an answer of the wrong shape with a message naming the field', async () => {
    const catalog = new CatalogClient({ baseUrl: `${server.url}/v4` });
    const failure = catalog.listFirmwares('iPhone9,1');
    await expect(failure).rejects.toBeInstanceOf(FirmwareServiceError);
    await expect(catalog.listFirmwares('iPhone9,1')).rejects.toThrow(/firmwares\.0\.identifier/);
    await expect(catalog.listFirmwares('iPhone1,1')).rejects.toThrow(/HTTP 404/);
    await expect(
      new CatalogClient({ baseUrl: 'http://127.0.0.1:9' }).listFirmwares('iPhone10,1'),
    ).rejects.toThrow(/cannot reach the firmware catalog/);
  });
});
