import { CancelledError } from '@bench/bench-domain';
import { planDfuUpload } from '@bench/protocols';
import type { ControlSetup, UsbDeviceHandle, UsbDeviceInfo } from '../bus/usb-bus';
import { UsbTransportError } from '../bus/usb-errors';
import { IBootClient } from './iboot-client';
import { DfuStateError, EcidMismatchError, IBootIdentityError } from './iboot-errors';

type Call =
  | { op: 'controlIn'; setup: ControlSetup; length: number }
  | { op: 'controlOut'; setup: ControlSetup; data: Buffer }
  | { op: 'bulkOut'; endpoint: number; length: number }
  | { op: 'bulkIn'; endpoint: number }
  | { op: 'setConfiguration' | 'claimInterface' | 'releaseInterface'; value: number }
  | { op: 'setAlternateSetting'; iface: number; alternate: number }
  | { op: 'reset' | 'close' };

const SERIAL =
  'SDOM:01 CPID:8015 CPRV:11 CPFM:03 SCEP:01 BDID:02 ECID:001A2B3C4D5E6F70 IBFL:3C SRNM:[F17ABCDEFG12]';
const NONCE =
  ' NONC:00112233445566778899AABBCCDDEEFF00112233445566778899AABBCCDDEEFF SNON:0102030405060708090A0B0C0D0E0F1011121314';

/** A scripted device: records every request, answers through `respond`. */
class ScriptedHandle implements UsbDeviceHandle {
  readonly calls: Call[] = [];
  closed = false;
  configuration = 1;
  respond: (call: Call) => Uint8Array | Error | void = () => undefined;

  constructor(readonly device: UsbDeviceInfo) {}

  private answer(call: Call): Uint8Array {
    this.calls.push(call);
    const result = this.respond(call);
    if (result instanceof Error) throw result;
    return result ?? new Uint8Array(0);
  }

  async getStringDescriptor(index: number): Promise<string> {
    if (index === 4) return SERIAL;
    if (index === 1) return NONCE;
    return '';
  }
  async controlIn(setup: ControlSetup, length: number) {
    return this.answer({ op: 'controlIn', setup, length });
  }
  async controlOut(setup: ControlSetup, data: Uint8Array = new Uint8Array(0)) {
    this.answer({ op: 'controlOut', setup, data: Buffer.from(data) });
  }
  async setConfiguration(value: number) {
    this.answer({ op: 'setConfiguration', value });
  }
  async getConfiguration() {
    return this.configuration;
  }
  async claimInterface(value: number) {
    this.answer({ op: 'claimInterface', value });
  }
  async releaseInterface(value: number) {
    this.answer({ op: 'releaseInterface', value });
  }
  async setAlternateSetting(iface: number, alternate: number) {
    this.answer({ op: 'setAlternateSetting', iface, alternate });
  }
  async bulkOut(endpoint: number, data: Uint8Array) {
    this.answer({ op: 'bulkOut', endpoint, length: data.length });
  }
  async bulkIn(endpoint: number) {
    return this.answer({ op: 'bulkIn', endpoint });
  }
  async reset() {
    this.answer({ op: 'reset' });
  }
  async close() {
    this.closed = true;
  }
}

function device(productId: number): UsbDeviceInfo {
  return {
    id: 'test#1',
    portPath: '1-1.4',
    busNumber: 1,
    address: 5,
    vendorId: 0x05ac,
    productId,
    deviceClass: 0,
    speed: 'high',
    manufacturerIndex: 2,
    productIndex: 3,
    serialNumberIndex: 4,
  };
}

function status(state: number): Uint8Array {
  return Uint8Array.of(0, 0, 0, 0, state, 0);
}

/** A short form of each request for comparing sequences. */
function describeCall(call: Call): string {
  switch (call.op) {
    case 'controlIn':
    case 'controlOut': {
      const { bmRequestType, bRequest, wValue } = call.setup;
      const size = call.op === 'controlOut' ? call.data.length : call.length;
      return `${bmRequestType.toString(16)}/${bRequest}/${wValue}:${size}`;
    }
    case 'bulkOut':
      return `bulk ${call.endpoint.toString(16)}:${call.length}`;
    default:
      return call.op;
  }
}

async function openRecovery(productId = 0x1281) {
  const handle = new ScriptedHandle(device(productId));
  const client = await IBootClient.open(handle);
  handle.calls.length = 0;
  return { handle, client };
}

async function openDfu() {
  const handle = new ScriptedHandle(device(0x1227));
  const sleeps: number[] = [];
  const client = await IBootClient.open(handle, {
    sleep: async (ms) => {
      sleeps.push(ms);
    },
  });
  handle.calls.length = 0;
  return { handle, client, sleeps };
}

describe('IBootClient.open', () => {
  it('reads the identity and claims interface 0 only for 0x1281', async () => {
    const handle = new ScriptedHandle(device(0x1281));
    handle.configuration = 0;
    const client = await IBootClient.open(handle, { ecid: 0x001a2b3c4d5e6f70n });
    expect(handle.calls.map(describeCall)).toEqual(['setConfiguration', 'claimInterface']);
    expect(client.identity).toMatchObject({
      mode: 'recovery',
      cpid: 0x8015,
      bdid: 2,
      sdom: 1,
      ecid: '001A2B3C4D5E6F70',
      srnm: 'F17ABCDEFG12',
      image4Supported: true,
      portPath: '1-1.4',
    });
    expect(client.identity.apNonce?.toString('hex')).toBe(
      '00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff',
    );
    expect(client.identity.sepNonce).toHaveLength(20);
  });

  it('also selects interface 1 alternate 1 for ids above 0x1281, and leaves configuration 1 alone', async () => {
    const handle = new ScriptedHandle(device(0x1283));
    await IBootClient.open(handle);
    expect(handle.calls).toEqual([
      { op: 'claimInterface', value: 0 },
      { op: 'claimInterface', value: 1 },
      { op: 'setAlternateSetting', iface: 1, alternate: 1 },
    ]);
  });

  it('refuses another ECID before claiming anything, and non-iBoot product ids', async () => {
    const handle = new ScriptedHandle(device(0x1281));
    await expect(IBootClient.open(handle, { ecid: '0000000000000001' })).rejects.toBeInstanceOf(
      EcidMismatchError,
    );
    expect(handle.calls).toEqual([]);
    await expect(IBootClient.open(new ScriptedHandle(device(0x12a8)))).rejects.toBeInstanceOf(
      IBootIdentityError,
    );
  });

  it('turns a malformed serial into a typed identity error', async () => {
    const handle = new ScriptedHandle(device(0x1281));
    handle.getStringDescriptor = async () => 'CPID:ZZZZ';
    await expect(IBootClient.open(handle)).rejects.toMatchObject({
      name: 'IBootIdentityError',
      failureClass: 'transient-usb',
    });
  });
});

describe('IBootClient commands', () => {
  it('getenv sends the command then reads 255 bytes with 0xC0', async () => {
    const { handle, client } = await openRecovery();
    handle.respond = (call) => (call.op === 'controlIn' ? Buffer.from('iBoot-8422\0junk') : undefined);
    expect(await client.getenv('build-version')).toBe('iBoot-8422');
    expect(handle.calls.map(describeCall)).toEqual(['40/0/0:21', 'c0/0/0:255']);
    expect((handle.calls[0] as { data: Buffer }).data.toString('latin1')).toBe('getenv build-version\0');
  });

  it('reads a stalled getenv as "no value"', async () => {
    const { handle, client } = await openRecovery();
    handle.respond = () => new UsbTransportError('pipe', 'stall');
    expect(await client.getenv('nothing')).toBeUndefined();
    expect(handle.calls).toHaveLength(1);
  });

  it('sends go/bootx/reset with bRequest 1 and tolerates the device vanishing', async () => {
    const { handle, client } = await openRecovery();
    handle.respond = () => new UsbTransportError('no-device', 'gone');
    await client.go();
    await client.bootx();
    await client.reset();
    expect(handle.calls.map(describeCall)).toEqual(['40/1/0:3', '40/1/0:6', '40/1/0:6']);
    await expect(client.setenv('auto-boot', 'true')).rejects.toMatchObject({ kind: 'no-device' });
  });

  it('passes other errors of jump commands on', async () => {
    const { handle, client } = await openRecovery();
    handle.respond = () => new UsbTransportError('access', 'denied');
    await expect(client.go()).rejects.toMatchObject({ kind: 'access', failureClass: 'host-setup' });
  });
});

describe('IBootClient.uploadRecovery', () => {
  it('prepares with 0x41, sends 0x8000 chunks on 0x04 and a ZLP for multiples of 512', async () => {
    const { handle, client } = await openRecovery();
    const progress: number[] = [];
    await client.uploadRecovery(Buffer.alloc(0x8000 + 0x200), {
      onProgress: (p) => progress.push(p.percent),
    });
    expect(handle.calls.map(describeCall)).toEqual(['41/0/0:0', 'bulk 4:32768', 'bulk 4:512', 'bulk 4:0']);
    expect(progress).toEqual([98, 100]);
  });

  it('sends no ZLP otherwise and stops when cancelled', async () => {
    const { handle, client } = await openRecovery();
    await client.uploadRecovery(Buffer.alloc(1000));
    expect(handle.calls.map(describeCall)).toEqual(['41/0/0:0', 'bulk 4:1000']);
    const controller = new AbortController();
    controller.abort();
    await expect(
      client.uploadRecovery(Buffer.alloc(10), { signal: controller.signal }),
    ).rejects.toBeInstanceOf(CancelledError);
  });
});

describe('IBootClient.uploadDfu', () => {
  it('follows libirecovery: GETSTATE, blocks with GETSTATUS, split trailer, finish, reset', async () => {
    const { handle, client } = await openDfu();
    const image = Buffer.alloc(0x800 * 2 - 8, 1); // the last block has no room for the trailer
    handle.respond = (call) => {
      if (call.op !== 'controlIn') return undefined;
      return call.setup.bRequest === 5 ? Uint8Array.of(2) : status(5);
    };
    await client.uploadDfu(image);
    expect(handle.calls.map(describeCall)).toEqual([
      'a1/5/0:1',
      '21/1/0:2048',
      'a1/3/0:6',
      '21/1/1:2040',
      '21/1/1:16',
      'a1/3/0:6',
      '21/1/2:0',
      'a1/3/0:6',
      'a1/3/0:6',
      'reset',
    ]);
    const trailer = (handle.calls[4] as { data: Buffer }).data;
    expect(trailer).toEqual(Buffer.from(planDfuUpload(image).blocks[2].data));
  });

  it('polls GETSTATUS until dfuDNLOAD-IDLE with the injected interval', async () => {
    const { handle, client, sleeps } = await openDfu();
    let busy = 2;
    handle.respond = (call) => {
      if (call.op !== 'controlIn') return undefined;
      if (call.setup.bRequest === 5) return Uint8Array.of(2);
      return status(busy-- > 0 ? 4 : 5);
    };
    await client.uploadDfu(Buffer.alloc(100), { statusPollIntervalMs: 7 });
    expect(sleeps).toEqual([7, 7]);
  });

  it('gives up with a DfuStateError after 20 polls', async () => {
    const { handle, client, sleeps } = await openDfu();
    handle.respond = (call) =>
      call.op === 'controlIn' ? (call.setup.bRequest === 5 ? Uint8Array.of(2) : status(4)) : undefined;
    const error = await client.uploadDfu(Buffer.alloc(100)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DfuStateError);
    expect(error).toMatchObject({ state: 4, failureClass: 'transient-usb' });
    expect(sleeps).toHaveLength(20);
    expect(sleeps[0]).toBe(1_000);
  });

  it('clears dfuERROR and fails; aborts any other state and fails', async () => {
    let { handle, client } = await openDfu();
    handle.respond = (call) => (call.op === 'controlIn' ? Uint8Array.of(10) : undefined);
    await expect(client.uploadDfu(Buffer.alloc(10))).rejects.toMatchObject({ state: 10 });
    expect(handle.calls.map(describeCall)).toEqual(['a1/5/0:1', '21/4/0:0']);

    ({ handle, client } = await openDfu());
    handle.respond = (call) => (call.op === 'controlIn' ? Uint8Array.of(8) : undefined);
    await expect(client.uploadDfu(Buffer.alloc(10))).rejects.toBeInstanceOf(DfuStateError);
    expect(handle.calls.map(describeCall)).toEqual(['a1/5/0:1', '21/6/0:0']);
  });

  it('tolerates the device leaving during the final reset', async () => {
    const { handle, client } = await openDfu();
    handle.respond = (call) => {
      if (call.op === 'reset') return new UsbTransportError('not-found', 're-enumerated');
      if (call.op !== 'controlIn') return undefined;
      return call.setup.bRequest === 5 ? Uint8Array.of(2) : status(5);
    };
    await expect(client.uploadDfu(Buffer.alloc(10))).resolves.toBeUndefined();
  });
});

describe('IBootClient.readConsole', () => {
  it('reads 0x81 on interface 1 alt 1 until quiet, then returns to 0/0', async () => {
    const { handle, client } = await openRecovery();
    const lines = [Buffer.from('] getenv a\n'), Buffer.from('ok\n')];
    handle.respond = (call) => {
      if (call.op !== 'bulkIn') return undefined;
      return lines.shift() ?? new UsbTransportError('timeout', 'quiet');
    };
    expect(await client.readConsole(50)).toBe('] getenv a\nok\n');
    expect(handle.calls.map(describeCall)).toEqual([
      'claimInterface',
      'setAlternateSetting',
      'bulkIn',
      'bulkIn',
      'bulkIn',
      'releaseInterface',
      'setAlternateSetting',
    ]);
    expect(handle.calls.at(-1)).toEqual({ op: 'setAlternateSetting', iface: 0, alternate: 0 });
  });
});
