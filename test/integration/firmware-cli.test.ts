// Acceptance (firmware CLI): `bench firmware inspect` on the real manifests prints the selected
// identity (text and --json) and exits 1 with one clear line for an unsupported product; `verify`,
// `list` and `fetch` work against a synthetic IPSW and a local catalog server.
import { createHash } from 'node:crypto';
import { closeSync, copyFileSync, openSync, readFileSync, statSync, truncateSync, writeSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { buildSyntheticIpsw, type SyntheticIpsw } from '@bench/device-sim';
import { REPO_ROOT, runBench, tempDir } from '@bench/testing';

const FIXTURES = path.resolve(REPO_ROOT, '../shared/fixtures/firmware');
const IOS13 = path.join(FIXTURES, 'BuildManifest_iPhone9,1_9,3_10,1_10,4_13.5.1_17F80.plist');
const IOS26 = path.join(FIXTURES, 'BuildManifest_iPhone13,2_13,3_26.2.1_23C71.plist');

// Each `bench` run starts a fresh Node process; on a busy machine that alone takes seconds.
jest.setTimeout(60_000);

describe('bench firmware', () => {
  const { dir, remove } = tempDir();
  const env = (extra: Record<string, string> = {}): NodeJS.ProcessEnv => ({
    PATH: process.env.PATH,
    BENCH_HOME: dir,
    ...extra,
  });
  let ipsw: SyntheticIpsw;

  beforeAll(async () => {
    ipsw = await buildSyntheticIpsw({
      productTypes: ['iPhone10,1'],
      out: path.join(dir, 'iPhone10,1_18.6.2_22G100_Restore.ipsw'),
      osSize: 1 << 20,
    });
  });
  afterAll(() => remove());

  it('inspect prints the identity selected for a product of the real 13.5.1 manifest', async () => {
    const result = await runBench(['firmware', 'inspect', IOS13, '--product', 'iPhone10,4'], {
      env: env(),
      cwd: dir,
    });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const lines = result.stdout.split('\n');
    expect(lines[0]).toBe('BuildManifest_iPhone9,1_9,3_10,1_10,4_13.5.1_17F80.plist: iOS 13.5.1 (17F80)');
    expect(result.stdout).toContain('iPhone10,4 (d201ap), erase:');
    expect(result.stdout).toMatch(/^ {2}Variant {10}Customer Erase Install \(IPSW\)$/m);
    expect(result.stdout).toMatch(/^ {2}DeviceClass {6}d201ap$/m);
    expect(result.stdout).toMatch(/^ {2}RestoreBehavior {2}Erase$/m);
    expect(result.stdout).toMatch(/^ {2}ApChipID {9}0x8015$/m);
    expect(result.stdout).toMatch(/^ {4}iBSS +Firmware\/dfu\/iBSS\.d20\.RELEASE\.im4p$/m);
    expect(result.stdout).toMatch(/^ {4}OS +038-35285-084\.dmg$/m);
  });

  it('inspect --update --json on 26.2.1 gives the Upgrade identities for both products', async () => {
    const result = await runBench(['firmware', 'inspect', IOS26, '--update', '--json'], {
      env: env(),
      cwd: dir,
    });
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout) as {
      productBuildVersion: string;
      selections: {
        productType: string;
        deviceClass: string;
        variant: string;
        restoreBehavior: string;
        components: Record<string, string>;
      }[];
    };
    expect(report.productBuildVersion).toBe('23C71');
    expect(
      report.selections.map((s) => [s.productType, s.deviceClass, s.variant, s.restoreBehavior]),
    ).toEqual([
      ['iPhone13,2', 'd53gap', 'Customer Upgrade Install (IPSW)', 'Erase'],
      ['iPhone13,3', 'd53pap', 'Customer Upgrade Install (IPSW)', 'Erase'],
    ]);
    expect(report.selections[0].components.RestoreRamDisk).toBe('043-88222-080.dmg');
  });

  it('inspect exits 1 with one clear line for a product the IPSW does not support', async () => {
    const result = await runBench(['firmware', 'inspect', IOS26, '--product', 'iPhone12,1'], {
      env: env(),
      cwd: dir,
    });
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe(
      'bench: iOS 26.2.1 (23C71) does not support iPhone12,1. This IPSW supports: iPhone13,2 (d53gap), iPhone13,3 (d53pap)\n',
    );
  });

  it('inspect reads an IPSW and checks its component paths', async () => {
    const result = await runBench(['firmware', 'inspect', ipsw.path, '--json'], { env: env(), cwd: dir });
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout) as { selections: { deviceClass: string; missing: string[] }[] };
    expect(report.selections).toEqual([expect.objectContaining({ deviceClass: 'd20ap', missing: [] })]);
  });

  it('verify checks checksum, CRCs and components, and fails clearly on a damaged copy', async () => {
    const good = await runBench(['firmware', 'verify', ipsw.path, '--sha256', ipsw.sha256], {
      env: env(),
      cwd: dir,
    });
    expect(good.stderr).toBe('');
    expect(good.code).toBe(0);
    expect(good.stdout).toMatch(/checksum ok \(SHA-256/);
    expect(good.stdout).toMatch(/members, CRC ok/);
    expect(good.stdout).toMatch(
      /iOS 18\.6\.2 \(22G100\) for iPhone10,1: 2 identities, all components present/,
    );

    const wrongSum = await runBench(['firmware', 'verify', ipsw.path, '--sha1', '0'.repeat(40)], {
      env: env(),
      cwd: dir,
    });
    expect(wrongSum.code).toBe(1);
    expect(wrongSum.stderr).toMatch(/^bench: .*SHA-1 is [0-9a-f]{40}, expected 0{40}\n$/);

    const damaged = path.join(dir, 'damaged.ipsw');
    copyFileSync(ipsw.path, damaged);
    const bytes = readFileSync(damaged);
    const at = bytes.indexOf(Buffer.from('bench synthetic ibss')) + 30;
    const handle = openSync(damaged, 'r+');
    writeSync(handle, Buffer.from([bytes[at] ^ 0xff]), 0, 1, at);
    closeSync(handle);
    const crc = await runBench(['firmware', 'verify', damaged], { env: env(), cwd: dir });
    expect(crc.code).toBe(1);
    expect(crc.stderr).toMatch(
      /^bench: damaged\.ipsw:Firmware\/dfu\/iBSS\.d20\.RELEASE\.im4p fails its CRC check .*: the IPSW is corrupt\n$/,
    );

    truncateSync(damaged, Math.floor(statSync(damaged).size / 2));
    const truncated = await runBench(['firmware', 'verify', damaged], { env: env(), cwd: dir });
    expect(truncated.code).toBe(1);
    expect(truncated.stderr).toMatch(/^bench: .*is not a readable zip/);
  });

  describe('against a catalog', () => {
    let server: Server;
    let base: string;
    beforeAll(async () => {
      const body = readFileSync(ipsw.path);
      server = createServer((request, response) => {
        if (request.url === '/v4/device/iPhone10,1?type=ipsw') {
          response.writeHead(200, { 'content-type': 'application/json' }).end(
            JSON.stringify({
              name: 'iPhone 8',
              identifier: 'iPhone10,1',
              firmwares: [
                {
                  identifier: 'iPhone10,1',
                  version: '18.6.2',
                  buildid: '22G100',
                  url: `${base}/ipsw/${path.basename(ipsw.path)}`,
                  filesize: body.length,
                  sha1sum: ipsw.sha1,
                  sha256sum: ipsw.sha256,
                  signed: true,
                },
                {
                  identifier: 'iPhone10,1',
                  version: '16.7.10',
                  buildid: '20H350',
                  url: `${base}/ipsw/old.ipsw`,
                  filesize: 1,
                  sha1sum: '1'.repeat(40),
                  signed: false,
                },
              ],
            }),
          );
        } else if (
          request.url === `/ipsw/${encodeURIComponent(path.basename(ipsw.path)).replace(/%2C/g, ',')}` ||
          request.url === `/ipsw/${path.basename(ipsw.path)}`
        ) {
          response.writeHead(200, { 'content-length': body.length }).end(body);
        } else response.writeHead(404).end();
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });
    afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

    it('list shows the builds; fetch latest downloads and verifies the signed one', async () => {
      const catalogEnv = env({
        BENCH_CATALOG_URL: `${base}/v4`,
        BENCH_FIRMWARE_DIR: path.join(dir, 'firmware'),
      });
      const list = await runBench(['firmware', 'list', '--product', 'iPhone10,1'], {
        env: catalogEnv,
        cwd: dir,
      });
      expect(list.code).toBe(0);
      expect(list.stdout).toMatch(/^18\.6\.2 +22G100 +yes +1\.\d+ MiB +http/m);
      expect(list.stdout).toMatch(/^16\.7\.10 +20H350 +no /m);

      const fetched = await runBench(['firmware', 'fetch', 'iPhone10,1', 'latest'], {
        env: catalogEnv,
        cwd: dir,
      });
      expect(fetched.code).toBe(0);
      const file = fetched.stdout.trim();
      expect(path.dirname(file)).toBe(path.join(dir, 'firmware'));
      expect(createHash('sha256').update(readFileSync(file)).digest('hex')).toBe(ipsw.sha256);
      expect(fetched.stderr).toMatch(/iPhone10,1: iOS 18\.6\.2 \(22G100\)/);
      expect(fetched.stderr).toMatch(/downloading: 100%/);

      const missing = await runBench(['firmware', 'fetch', 'iPhone10,1', '99Z1'], {
        env: catalogEnv,
        cwd: dir,
      });
      expect(missing.code).toBe(1);
      expect(missing.stderr).toBe(
        'bench: the catalog has no build 99Z1 for iPhone10,1; it has: 18.6.2 (22G100), 16.7.10 (20H350)\n',
      );
    });
  });
});
