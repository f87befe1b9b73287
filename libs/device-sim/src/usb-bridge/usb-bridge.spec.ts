// The bridge against a scripted harness on a Unix socket: what it mirrors, in which order, and
// how it answers forwarded requests with the simulator's device model (no umockdev here; the
// integration tests run the real harness).
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { constants, tmpdir } from 'node:os';
import path from 'node:path';
import { decodeUsbStringDescriptor, parseIBootSerial, stringDescriptorRequest } from '@bench/protocols';
import { createPhone } from '../phone/phone-factory';
import type { SimPhone } from '../phone/sim-phone';
import { SeededRandom } from '../time/random';
import { SimClock } from '../time/sim-clock';
import { SimulatedUsbBus } from '../usb/simulated-usb-bus';
import {
  BridgeFrameDecoder,
  BridgeMessage,
  encodeBridgeFrame,
  type BridgeFrame,
  type HarnessMessage,
} from './bridge-protocol';
import { UsbBridge } from './usb-bridge';

const { ENODEV, EPIPE } = constants.errno;

/** The harness side of the socket, scripted. */
class FakeHarness {
  private readonly decoder = new BridgeFrameDecoder(BridgeMessage);
  private readonly frames: BridgeFrame<BridgeMessage>[] = [];
  private wake?: () => void;
  private seq = 0;

  constructor(private readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.frames.push(...this.decoder.push(chunk));
      this.wake?.();
    });
  }

  static async connect(socketPath: string): Promise<FakeHarness> {
    const socket = connect(socketPath);
    await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
    return new FakeHarness(socket);
  }

  send(message: HarnessMessage, body?: Uint8Array): void {
    this.socket.write(encodeBridgeFrame(message, body));
  }

  /** The next message matching `predicate` (earlier ones that do not match stay queued). */
  async next<T extends BridgeMessage['t']>(
    t: T,
    predicate: (m: Extract<BridgeMessage, { t: T }>) => boolean = () => true,
    timeoutMs = 2_000,
  ): Promise<BridgeFrame<Extract<BridgeMessage, { t: T }>>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const index = this.frames.findIndex(
        (f) => f.message.t === t && predicate(f.message as Extract<BridgeMessage, { t: T }>),
      );
      if (index >= 0) return this.frames.splice(index, 1)[0] as BridgeFrame<Extract<BridgeMessage, { t: T }>>;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no '${t}' message within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }

  /** Acknowledges every add/remove so far, as the harness does once the testbed has it. */
  async acknowledgeAll(count: number): Promise<Extract<BridgeMessage, { t: 'add' }>[]> {
    const adds: Extract<BridgeMessage, { t: 'add' }>[] = [];
    for (let i = 0; i < count; i++) {
      const { message } = await this.next('add');
      adds.push(message);
      this.send({ t: 'added', dev: message.dev });
    }
    return adds;
  }

  urb(
    dev: string,
    fields: Omit<Extract<HarnessMessage, { t: 'urb' }>, 't' | 'seq' | 'dev'>,
    body?: Uint8Array,
  ) {
    const seq = ++this.seq;
    this.send({ t: 'urb', seq, dev, ...fields }, body);
    return seq;
  }

  call(dev: string, op: Extract<HarnessMessage, { t: 'call' }>['op'], args: number[] = []) {
    const seq = ++this.seq;
    this.send({ t: 'call', seq, dev, op, args });
    return seq;
  }

  close(): void {
    this.socket.destroy();
  }
}

describe('UsbBridge', () => {
  let dir: string;
  let bus: SimulatedUsbBus;
  let bridge: UsbBridge;
  let harness: FakeHarness;
  let phone: SimPhone;
  const errors: Error[] = [];

  beforeEach(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'usb-bridge-'));
    const clock = new SimClock(1000);
    bus = new SimulatedUsbBus({ clock, personalizationKey: randomBytes(32) });
    phone = createPhone({ productType: 'iPhone10,1', stage: 'iboot' }, clock, new SeededRandom(5));
    bus.plug('1-1.3', phone);
    bridge = await UsbBridge.listen({
      bus,
      socketPath: path.join(dir, 'bridge.sock'),
      onError: (e) => errors.push(e),
    });
    harness = await FakeHarness.connect(path.join(dir, 'bridge.sock'));
    harness.send({ t: 'hello', root: '/tmp/umockdev.test' });
  });

  afterEach(async () => {
    harness.close();
    await bridge.close();
    await bus.close();
    rmSync(dir, { recursive: true, force: true });
    expect(errors.splice(0)).toEqual([]);
  });

  /** Root hubs (usb1, usb2, SuperSpeed usb3), the two hubs, the phone. */
  const mirrorAll = async () => {
    expect(await bridge.connected(1_000)).toBe('/tmp/umockdev.test');
    const adds = await harness.acknowledgeAll(6);
    await bridge.settled(1_000);
    return adds;
  };

  it('mirrors root hubs, hubs and the DFU/recovery device in parent-first order', async () => {
    const adds = await mirrorAll();
    expect(adds.map((a) => [a.syspath.split('/').pop(), a.serve])).toEqual([
      ['usb1', false],
      ['usb2', false],
      ['usb3', false],
      ['1-1', false],
      ['2-1', false],
      ['1-1.3', true],
    ]);
    const device = bus.deviceAt('1-1.3');
    expect(adds[5]).toMatchObject({
      devnode: `/dev/bus/usb/001/${String(device?.address).padStart(3, '0')}`,
      devnum: device?.address,
      interfaces: [0, 1],
    });
    expect(adds[5].record).toContain('A: idProduct=1281\\n');
    expect(adds[3].record).toContain('A: bDeviceClass=09\\n');
  });

  it('answers forwarded URBs with the device model: strings, stalls, the console on alt 1', async () => {
    const adds = await mirrorAll();
    const dev = adds[5].dev;
    const serialRequest = { ...stringDescriptorRequest(4), wLength: 255 };
    const serial = harness.urb(dev, { kind: 'control', endpoint: 0, setup: serialRequest, length: 255 });
    const answer = await harness.next('done', (m) => m.seq === serial);
    expect(answer.message).toMatchObject({ status: 0 });
    expect(parseIBootSerial(decodeUsbStringDescriptor(answer.body)).ecid).toBe(phone.identity.ecid);

    const early = harness.urb(dev, { kind: 'bulk', endpoint: 0x81, length: 4096 });
    expect((await harness.next('done', (m) => m.seq === early)).message.status).toBe(-EPIPE);

    const alt = harness.call(dev, 'set-interface', [1, 1]);
    expect((await harness.next('done', (m) => m.seq === alt)).message.status).toBe(0);
    const read = harness.urb(dev, { kind: 'bulk', endpoint: 0x81, length: 4096 });
    const banner = await harness.next('done', (m) => m.seq === read);
    expect(banner.body.toString('latin1')).toContain('Entering recovery mode');
    expect(banner.message.actual).toBe(banner.body.length);

    // Console quiet: the read stays pending; a discard cancels it without an answer.
    const pending = harness.urb(dev, { kind: 'bulk', endpoint: 0x81, length: 4096 });
    harness.send({ t: 'cancel', seq: pending });
    await expect(harness.next('done', (m) => m.seq === pending, 200)).rejects.toThrow(/no 'done'/);
  });

  it('removes an unplugged device, fails its pending URBs with ENODEV, and mirrors re-enumerations', async () => {
    const adds = await mirrorAll();
    const dev = adds[5].dev;
    harness.call(dev, 'set-interface', [1, 1]);
    await harness.next('done');
    harness.urb(dev, { kind: 'bulk', endpoint: 0x81, length: 4096 });
    await harness.next('done'); // the banner
    const pending = harness.urb(dev, { kind: 'bulk', endpoint: 0x81, length: 4096 });
    bus.unplug('1-1.3');
    expect((await harness.next('remove')).message.dev).toBe(dev);
    expect((await harness.next('done', (m) => m.seq === pending)).message.status).toBe(-ENODEV);
    const late = harness.urb(dev, { kind: 'bulk', endpoint: 0x04, length: 0 }, Buffer.alloc(8));
    expect((await harness.next('done', (m) => m.seq === late)).message.status).toBe(-ENODEV);
    harness.send({ t: 'removed', dev });

    // Plugged back: a new enumeration, a new address; a USB reset makes it re-enumerate again.
    bus.plug('1-1.3', phone);
    const [again] = await harness.acknowledgeAll(1);
    expect(again.dev).not.toBe(dev);
    expect(again.devnum).not.toBe(adds[5].devnum);
    const reset = harness.call(again.dev, 'reset');
    expect((await harness.next('remove')).message.dev).toBe(again.dev);
    expect((await harness.next('done', (m) => m.seq === reset)).message.status).toBe(0);
    harness.send({ t: 'removed', dev: again.dev });
    const [third] = await harness.acknowledgeAll(1);
    expect(third.syspath).toBe(again.syspath);
    await bridge.settled(1_000);
    expect(bridge.history.filter((e) => e.served).map((e) => [e.type, e.productId])).toEqual([
      ['add', 0x1281],
      ['remove', 0x1281],
      ['add', 0x1281],
      ['remove', 0x1281],
      ['add', 0x1281],
    ]);
  });

  it('names the add the harness never answered when the testbed does not catch up', async () => {
    expect(await bridge.connected(1_000)).toBe('/tmp/umockdev.test');
    await harness.acknowledgeAll(5);
    const { message } = await harness.next('add');
    await expect(bridge.settled(200)).rejects.toThrow(
      new RegExp(`within 200 ms \\(unanswered: add 05ac:1281 on 1-1\\.3 \\(${message.dev}\\)\\)$`),
    );
    harness.send({ t: 'added', dev: message.dev });
    await bridge.settled(1_000);
  });

  it('fails settled at once with the error of an add the harness could not make', async () => {
    expect(await bridge.connected(1_000)).toBe('/tmp/umockdev.test');
    await harness.acknowledgeAll(5);
    const { message } = await harness.next('add');
    harness.send({ t: 'error', dev: message.dev, message: "add: KeyError('x')" });
    // Not the timeout's message: settled does not wait for an answer that will never come.
    await expect(bridge.settled(5_000)).rejects.toThrow(
      `umockdev harness (${message.dev}): add: KeyError('x')`,
    );
    errors.splice(0);
  });

  it('reports harness errors', async () => {
    await mirrorAll();
    harness.send({ t: 'error', dev: 'x', message: 'add: refused' });
    while (errors.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    await expect(bridge.settled(1_000)).rejects.toThrow('umockdev harness (x): add: refused');
    errors.splice(0);
  });
});
