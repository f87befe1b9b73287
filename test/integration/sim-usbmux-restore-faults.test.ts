// The simulated restored under faults and in strict mode, driven by our own host clients
// (usb-transport's UsbmuxClient, RestoredClient and AsrSender) over the simulated usbmuxd:
// - `hang` stops all progress while the connection stays open;
// - `status` ends the restore with that StatusMsg, an AMRError and a device log, then the phone
//   falls back to recovery;
// - `corrupt-transfer` while streaming the filesystem ends with a verification error;
// - a host that vanishes mid-restore leaves the phone rebooting into recovery;
// - the strict verifier refuses a ticket the simulated TSS did not sign and accepts one it did.
import {
  SeededRandom,
  SimClock,
  SyntheticOsImage,
  createPhone,
  createSimUsbmuxd,
  idevicerestoreCompatVerifier,
  issueSimTicket,
  strictRestoreVerifier,
  syntheticOsFilesystem,
  type FaultCheckpoint,
  type PhoneFaults,
  type RestoreVerifier,
  type SimFault,
  type SimPhone,
  type SimUsbmuxd,
} from '@bench/device-sim';
import { buildRestoreOptions, restoredReplies, type RestoredMessage } from '@bench/protocols';
import { AsrSender, RestoredClient, RestoreStatusError, UsbmuxClient } from '@bench/usb-transport';
import { waitFor } from '@bench/testing';

jest.setTimeout(60_000);

const SPEED = 200;
const TSS_KEY = Buffer.from('simulated tss key for this test file');

/** A real PhoneFaults whose answers are scripted per checkpoint. */
class ScriptedFaults implements PhoneFaults {
  readonly asked: FaultCheckpoint[] = [];
  constructor(private readonly script: (checkpoint: FaultCheckpoint) => SimFault | undefined) {}
  check(_phone: SimPhone, checkpoint: FaultCheckpoint): SimFault | undefined {
    this.asked.push(checkpoint);
    return this.script(checkpoint);
  }
  active(): boolean {
    return false;
  }
}

interface Bench {
  phone: SimPhone;
  endpoint: SimUsbmuxd;
  usbmux: UsbmuxClient;
  image: SyntheticOsImage;
  notes: string[];
}

const benches: Bench[] = [];

afterEach(async () => {
  for (const bench of benches.splice(0)) await bench.endpoint.close();
});

async function bench(faults: PhoneFaults, verifier?: RestoreVerifier): Promise<Bench> {
  const clock = new SimClock(SPEED);
  const phone = createPhone(
    {
      productType: 'iPhone10,1',
      stage: 'restore-ramdisk',
      productVersion: '16.7.10',
      buildVersion: '20H350',
    },
    clock,
    new SeededRandom(31),
  );
  const notes: string[] = [];
  phone.on('note', (kind) => notes.push(kind));
  const endpoint = createSimUsbmuxd({
    faults,
    restored: {
      verifier: verifier ?? idevicerestoreCompatVerifier({ filesystem: syntheticOsFilesystem() }),
      requests: { KernelCache: false, DeviceTree: false, NORData: false, FDRTrustData: true },
    },
  });
  endpoint.addPhone(phone);
  phone.plug('1-2.1');
  const bound = await endpoint.listen({ tcp: { host: '127.0.0.1', port: 0 } });
  const image = SyntheticOsImage.create({
    size: 1024 * 1024 + 777,
    seed: 'restore-faults',
    label: 'iPhone10,1 18.6.2 22G100',
  });
  const made = { phone, endpoint, usbmux: UsbmuxClient.forAddress(bound.socketAddress), image, notes };
  benches.push(made);
  return made;
}

interface Drive {
  client: RestoredClient;
  messages: Array<{ message: RestoredMessage; at: number }>;
  /** Settles when the host's message loop ends (success, status error or connection loss). */
  loop: Promise<RestoredMessage>;
}

/** Our host side of a restore: handshake, StartRestore, then answer the device's requests. */
async function drive(b: Bench, rootTicket: Uint8Array): Promise<Drive> {
  const [device] = await b.usbmux.listDevices();
  const client = await RestoredClient.open(b.usbmux, device.deviceId);
  const type = await client.queryType();
  expect(type.restoreProtocolVersion).toBe(14);
  const hardware = await client.hardwareInfo();
  expect(hardware.uniqueChipId).toBe(b.phone.identity.ecid);
  await client.startRestore(buildRestoreOptions());
  const messages: Drive['messages'] = [];
  const record = (message: RestoredMessage) => void messages.push({ message, at: Date.now() });
  const loop = client.runMessageLoop({
    ProgressMsg: record,
    CheckpointMsg: record,
    unknown: record,
    DataRequestMsg: async (message) => {
      record(message);
      if (message.dataType === 'RootTicket') return client.send(restoredReplies.rootTicket(rootTicket));
      if (message.dataType === 'FDRTrustData') return client.send(restoredReplies.fdrTrustData());
      if (message.dataType === 'SystemImageData') {
        const channel = await AsrSender.connect((port, signal) => client.connectPort(port, signal), {
          port: message.dataPort,
        });
        await new AsrSender(channel, b.image).send().catch(() => undefined);
        return;
      }
      throw new Error(`unexpected data request ${message.dataType}`);
    },
  });
  loop.catch(() => undefined);
  return { client, messages, loop };
}

function progressOf(messages: Drive['messages']): string[] {
  return messages.flatMap(({ message }) =>
    message.msgType === 'ProgressMsg' ? [`${message.operation}/${message.progress}`] : [],
  );
}

describe('simulated restored under faults', () => {
  it('hang: no more ProgressMsg for a long simulated interval while the connection stays open', async () => {
    const faults = new ScriptedFaults((c) =>
      c.stage === 'verify' && c.progress === 30 ? { kind: 'hang' } : undefined,
    );
    const b = await bench(faults);
    const run = await drive(b, Buffer.from('any ticket'));

    await waitFor(() => progressOf(run.messages).includes('14/30'), 20_000, 'verify to reach 30 %');
    const seen = run.messages.length;
    const last = progressOf(run.messages).at(-1);
    // 2 s at speed 200 is 400 s of simulated time: far more than the rest of the restore needs.
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    expect(run.messages.length).toBe(seen);
    expect(last).toBe('14/30');
    expect(run.client.service.closed).toBe(false);
    expect(b.phone.stage).toBe('restore-ramdisk');
    expect(b.phone.presence).toBe('usbmux');
    expect(b.notes).toContain('fault');

    // A hung phone does not notice the host leaving either.
    run.client.close();
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(b.phone.stage).toBe('restore-ramdisk');
  });

  it('status: ends the restore with that StatusMsg, an AMRError and a device log, then recovery', async () => {
    const faults = new ScriptedFaults((c) =>
      c.stage === 'verify' && c.progress === 50 ? { kind: 'status', code: 6 } : undefined,
    );
    const b = await bench(faults);
    const run = await drive(b, Buffer.from('any ticket'));

    const failure = await run.loop.then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(RestoreStatusError);
    const status = (failure as RestoreStatusError).statusMessage;
    expect(status.status).toBe(6);
    expect(status.amrError).toBe(6);
    expect(status.log).toMatch(/AppleNANDFTL/);
    expect(status.log).toMatch(/restore failed with status 6 \(Disk Failure\)/);
    expect(progressOf(run.messages)).toContain('14/50');
    expect(progressOf(run.messages)).not.toContain('14/60');

    await waitFor(() => b.phone.stage === 'iboot', 10_000, 'the phone to fall back to recovery');
    expect(b.phone.nvram.get('auto-boot')).toBe('false');
    expect(b.phone.presence).toBe('usb');
    run.client.close();
  });

  it('corrupt-transfer while streaming the filesystem ends with a verification error', async () => {
    const faults = new ScriptedFaults((c) =>
      c.stage === 'send-filesystem' && (c.progress ?? 0) >= 40 ? { kind: 'corrupt-transfer' } : undefined,
    );
    const b = await bench(faults);
    const run = await drive(b, Buffer.from('any ticket'));
    const failure = (await run.loop.then(
      () => undefined,
      (error: unknown) => error,
    )) as RestoreStatusError;
    expect(failure).toBeInstanceOf(RestoreStatusError);
    expect(failure.status).toBe(-1);
    expect(failure.statusMessage.log).toMatch(/SHA-1 mismatch/);
    expect(b.notes).not.toContain('filesystem-verified');
    run.client.close();
  });

  it('a host that vanishes mid-restore leaves the phone rebooting into recovery', async () => {
    const b = await bench(new ScriptedFaults(() => undefined));
    const run = await drive(b, Buffer.from('any ticket'));
    await waitFor(() => progressOf(run.messages).includes('14/20'), 20_000, 'verify to start');
    run.client.close();
    await waitFor(() => b.phone.stage === 'iboot', 10_000, 'the phone to reboot into recovery');
    expect(b.phone.nvram.get('auto-boot')).toBe('false');
    expect(b.notes).toContain('restore-interrupted');
    expect(b.notes).not.toContain('restore-finished');
  });
});

describe('simulated restored in strict mode', () => {
  it('refuses a RootTicket the simulated TSS did not sign', async () => {
    const b = await bench(new ScriptedFaults(() => undefined), strictRestoreVerifier({ key: TSS_KEY }));
    const run = await drive(b, Buffer.from('3014160449344d4d020100', 'hex'));
    const failure = (await run.loop.then(
      () => undefined,
      (error: unknown) => error,
    )) as RestoreStatusError;
    expect(failure).toBeInstanceOf(RestoreStatusError);
    expect(failure.status).toBe(14);
    expect(failure.statusMessage.log).toMatch(/RootTicket .* rejected: not-img4/);
    run.client.close();
  });

  it('restores with a signed ticket and comes back in iOS with the image build', async () => {
    const b = await bench(new ScriptedFaults(() => undefined), strictRestoreVerifier({ key: TSS_KEY }));
    const { identity } = b.phone;
    const ticket = issueSimTicket(
      {
        ecid: identity.ecid,
        apNonce: b.phone.apNonce,
        chipId: identity.model.cpid,
        boardId: identity.model.bdid,
        securityDomain: 1,
        productionMode: true,
        securityMode: true,
        components: {},
      },
      TSS_KEY,
    );
    const run = await drive(b, ticket);
    const last = await run.loop;
    expect(last.msgType).toBe('StatusMsg');
    expect(b.notes).toContain('filesystem-verified');
    await run.client.goodbye();
    run.client.close();
    await waitFor(() => b.phone.stage === 'ios' && b.phone.presence === 'usbmux', 10_000, 'iOS to boot');
    expect(b.phone.buildVersion).toBe('22G100');
    expect(b.phone.productVersion).toBe('18.6.2');
  });
});
