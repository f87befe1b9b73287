// Acceptance: Debian's unmodified idevicerestore 1.0.0 restores a simulated iPhone 8 (iPhone10,1,
// d20ap) that starts in restore mode, over the simulated usbmuxd, with no network
// (`idevicerestore -R -e -y -i <ECID> -T ticket <synthetic.ipsw>`, see
// docs/reference idevicerestore-1.0.0-restore-mode.md §7). The run must print
// "Status: Restore Finished" and "DONE", and the phone must report the whole filesystem image
// received and verified, then come back in normal mode with the IPSW's build.
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import {
  SeededRandom,
  SimClock,
  buildSyntheticIpsw,
  createPhone,
  createSimUsbmuxd,
  idevicerestoreCompatVerifier,
  syntheticOsFilesystem,
  type SimUsbmuxd,
} from '@bench/device-sim';
import { runProcess, tempDir, waitFor } from '@bench/testing';

jest.setTimeout(180_000);

/** Runs in a fresh network namespace when the machine allows it, so nothing can reach the network. */
function isolatedCommand(
  command: string,
  args: string[],
): { command: string; args: string[]; isolated: boolean } {
  const probe = spawnSync('unshare', ['-rn', 'true'], { stdio: 'ignore' });
  if (probe.status === 0) return { command: 'unshare', args: ['-rn', command, ...args], isolated: true };
  return { command, args, isolated: false };
}

describe('Debian idevicerestore 1.0.0 against a simulated restore-mode iPhone 8', () => {
  const work = tempDir('bench-sim-idevicerestore-');
  let endpoint: SimUsbmuxd;

  afterAll(async () => {
    await endpoint?.close();
    work.remove();
  });

  it('restores to completion and the phone reboots into the new build', async () => {
    const osSize = 6 * 1024 * 1024 + 12_345; // not a multiple of the 0x20000 ASR chunk
    const ipsw = await buildSyntheticIpsw({
      productTypes: ['iPhone10,1'],
      productVersion: '18.6.2',
      buildVersion: '22G100',
      osSize,
      manifesto: true,
      seed: 'sim-idevicerestore',
      out: path.join(work.dir, 'iPhone10,1_18.6.2_22G100_Restore.ipsw'),
    });
    const ticket = path.join(work.dir, 'root_ticket.der');
    writeFileSync(ticket, Buffer.from('3014160449344d4d020100', 'hex'));

    const clock = new SimClock(120);
    const phone = createPhone(
      {
        productType: 'iPhone10,1',
        stage: 'restore-ramdisk',
        productVersion: '16.7.10',
        buildVersion: '20H350',
      },
      clock,
      new SeededRandom(8),
    );
    const notes: Array<[string, Record<string, unknown>]> = [];
    phone.on('note', (kind, detail) => notes.push([kind, detail]));
    endpoint = createSimUsbmuxd({
      restored: { verifier: idevicerestoreCompatVerifier({ filesystem: syntheticOsFilesystem() }) },
    });
    endpoint.addPhone(phone);
    phone.plug('1-1.3');
    // A unix socket: it is reachable from inside the isolated network namespace, loopback is not.
    const bound = await endpoint.listen({ unixPath: path.join(work.dir, 'usbmuxd.sock') });

    const run = isolatedCommand('idevicerestore', [
      '-R',
      '-e',
      '-y',
      '-i',
      `0x${phone.identity.ecidHex}`,
      '-T',
      ticket,
      ipsw.path,
    ]);
    const result = await runProcess(run.command, run.args, {
      cwd: work.dir,
      env: { PATH: process.env.PATH, HOME: work.dir, USBMUXD_SOCKET_ADDRESS: bound.socketAddress },
      timeoutMs: 150_000,
    });
    const transcript = `isolated=${run.isolated}\n${result.stdout}\n--- stderr ---\n${result.stderr}`;

    expect({ code: result.code, transcript }).toMatchObject({ code: 0 });
    expect(result.stdout).toContain('Found device in Restore mode');
    expect(result.stdout).toContain('Identified device as d20ap, iPhone10,1');
    expect(result.stdout).toContain(`UniqueChipID: ${phone.identity.ecid}`);
    expect(result.stdout).toContain('Filesystem validated');
    expect(result.stdout).toContain('Status: Restore Finished');
    expect(result.stdout).toMatch(/^DONE$/m);
    expect(result.stderr).not.toMatch(/Baseband|TSS/);

    const verified = notes.find(([kind]) => kind === 'filesystem-verified');
    expect(verified?.[1]).toMatchObject({ bytes: osSize, contentVerified: true });

    await waitFor(
      () => phone.stage === 'ios' && phone.presence === 'usbmux',
      20_000,
      'the phone to boot iOS',
    );
    expect(phone.productVersion).toBe('18.6.2');
    expect(phone.buildVersion).toBe('22G100');
    expect(notes.map(([kind]) => kind)).toEqual(
      expect.arrayContaining(['restore-started', 'filesystem-verified', 'restore-finished']),
    );
  });
});
