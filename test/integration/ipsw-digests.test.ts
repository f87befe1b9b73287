// The agent names the IPSW each restore used, with its SHA-256 (reports, restore certificates):
// through the real firmware store, a synthetic IPSW opened inside a run's scope is noted; its
// hash comes from the firmware cache's record when there is one, and otherwise the file is read
// once per path, size and mtime (a 5 GB IPSW is not hashed again for every restore).
import { createHash } from 'node:crypto';
import {
  copyFileSync,
  openSync,
  readFileSync,
  statSync,
  utimesSync,
  writeFileSync,
  writeSync,
  closeSync,
} from 'node:fs';
import path from 'node:path';
import { buildSyntheticIpsw, type SyntheticIpsw } from '@bench/device-sim';
import { LocalFirmwareStore } from '@bench/firmware';
import { tempDir } from '@bench/testing';
import { IpswDigests } from '../../apps/bench-agent/src/jobs/ipsw-digests';

const sha256Of = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

describe('the IPSW a restore used, and its SHA-256', () => {
  const { dir, remove } = tempDir('bench-ipsw-digests-');
  let ipsw: SyntheticIpsw;

  beforeAll(async () => {
    ipsw = await buildSyntheticIpsw({
      productTypes: ['iPhone10,1'],
      out: path.join(dir, 'iPhone10,1_18.6.2_22G100_Restore.ipsw'),
      osSize: 4 << 20,
    });
  });
  afterAll(() => remove());

  /** What the engine does with the store: resolve the build for the phone, open it, close it. */
  async function restoreWith(digests: IpswDigests, file: string, runId?: string): Promise<void> {
    const store = digests.track(new LocalFirmwareStore([file]));
    const attempt = async () => {
      const firmware = await store.open(await store.resolve('iPhone10,1', ipsw.buildVersion));
      await firmware.close();
    };
    await (runId ? digests.within(runId, attempt) : attempt());
  }

  it('notes the IPSW an attempt opened, with the hash of the file', async () => {
    const digests = new IpswDigests();
    await restoreWith(digests, ipsw.path, 'run-1');
    expect(await digests.takeRecord('run-1', 30_000)).toEqual({
      fileName: path.basename(ipsw.path),
      sizeBytes: ipsw.size,
      sha256: ipsw.sha256,
    });
    // Taken once: the record belongs to that run's end.
    expect(await digests.takeRecord('run-1', 0)).toBeUndefined();
  });

  it('notes nothing outside a run, and nothing for a run that opened no IPSW', async () => {
    const digests = new IpswDigests();
    await restoreWith(digests, ipsw.path);
    expect(await digests.takeRecord('run-2', 1_000)).toBeUndefined();
  });

  it('reads a file once per path, size and mtime', async () => {
    const file = path.join(dir, 'copy.ipsw');
    copyFileSync(ipsw.path, file);
    // A whole-second mtime, so that setting it again gives back exactly the same.
    const mtime = new Date('2025-06-01T00:00:00Z');
    utimesSync(file, mtime, mtime);
    const digests = new IpswDigests();
    await restoreWith(digests, file, 'first');
    const first = await digests.takeRecord('first', 30_000);
    expect(first?.sha256).toBe(ipsw.sha256);
    // Change a byte of the OS image but keep size and mtime: the known hash is used, not re-read.
    const { size } = statSync(file);
    const handle = openSync(file, 'r+');
    writeSync(handle, Buffer.from([0x5a]), 0, 1, Math.floor(size / 2));
    closeSync(handle);
    utimesSync(file, mtime, mtime);
    await restoreWith(digests, file, 'second');
    expect(await digests.takeRecord('second', 30_000)).toEqual(first);
    // A newer mtime means another file: it is read again.
    utimesSync(file, new Date(mtime.getTime() + 60_000), new Date(mtime.getTime() + 60_000));
    await restoreWith(digests, file, 'third');
    const third = await digests.takeRecord('third', 30_000);
    expect(third?.sha256).toBe(sha256Of(file));
    expect(third?.sha256).not.toBe(ipsw.sha256);
  });

  it("takes the hash from the firmware cache's record of a downloaded file", async () => {
    const cacheDir = tempDir('bench-ipsw-cache-');
    try {
      const name = path.basename(ipsw.path);
      const file = path.join(cacheDir.dir, name);
      copyFileSync(ipsw.path, file);
      const recorded = 'ab'.repeat(32);
      const record = path.join(cacheDir.dir, `.${name}.verified.json`);
      writeFileSync(
        record,
        JSON.stringify({ url: 'https://example.invalid/x.ipsw', size: ipsw.size, sha256: recorded }),
      );
      const digests = new IpswDigests();
      await restoreWith(digests, file, 'cached');
      expect((await digests.takeRecord('cached', 30_000))?.sha256).toBe(recorded);
      // A record for another size is not this file's: it is hashed.
      writeFileSync(
        record,
        JSON.stringify({ url: 'https://example.invalid/x.ipsw', size: 1, sha256: recorded }),
      );
      utimesSync(file, new Date(), new Date(Date.now() + 1_000));
      await restoreWith(digests, file, 'stale-record');
      expect((await digests.takeRecord('stale-record', 30_000))?.sha256).toBe(ipsw.sha256);
    } finally {
      cacheDir.remove();
    }
  });
});
