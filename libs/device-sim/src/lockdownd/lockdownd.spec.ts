import { Duplex, PassThrough } from 'node:stream';
import tls from 'node:tls';
import {
  FrameDecoder,
  decodePlistDict,
  encodeBigEndianLengthPrefixed,
  encodePlistXml,
  framePayload,
  plistServiceFormat,
  type PlistDict,
} from '@bench/protocols';
import { UNTHROTTLED } from '../bench-hooks';
import { NO_FAULTS } from '../faults/fault-types';
import { generatePairRecord, pairRequestRecord } from '../pairing/pair-record-generator';
import { createPhone } from '../phone/phone-factory';
import type { SimPhone } from '../phone/sim-phone';
import { SeededRandom } from '../time/random';
import { SimClock } from '../time/sim-clock';
import { MuxDevice } from '../usbmux/mux-device';
import { LockdownPersonality } from './lockdownd';

/** Two connected in-memory streams. */
function streamPair(): [Duplex, Duplex] {
  const toDevice = new PassThrough();
  const toHost = new PassThrough();
  const ends: [Duplex, Duplex] = [
    Duplex.from({ readable: toDevice, writable: toHost }),
    Duplex.from({ readable: toHost, writable: toDevice }),
  ];
  // Destroying one end aborts the shared streams; in-memory peers see that as an error.
  for (const end of ends) end.on('error', () => undefined);
  return ends;
}

/** Passes bytes between the host's raw stream and its TLS socket, and can be unhooked. */
class ClientCarrier extends Duplex {
  unhooked = false;
  constructor(private readonly raw: Duplex) {
    super();
  }
  override _read(): void {}
  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: () => void): void {
    if (!this.unhooked) this.raw.write(chunk);
    callback();
  }
}

/** A minimal lockdown host: plain plist frames, TLS after StartSession, plain again after StopSession. */
class Host {
  private readonly frames = new FrameDecoder(plistServiceFormat());
  private readonly replies: PlistDict[] = [];
  private waiter?: () => void;
  private carrier?: ClientCarrier;
  private tlsSocket?: tls.TLSSocket;
  private readonly tlsFrames = new FrameDecoder(plistServiceFormat());

  constructor(private readonly raw: Duplex) {
    raw.on('data', (chunk: Buffer) => {
      if (this.carrier && !this.carrier.unhooked) this.carrier.push(chunk);
      else this.collect(this.frames, chunk);
    });
  }

  private collect(decoder: FrameDecoder, chunk: Buffer): void {
    for (const frame of decoder.push(chunk)) this.replies.push(decodePlistDict(framePayload(frame)));
    this.waiter?.();
  }

  async request(body: PlistDict): Promise<PlistDict> {
    const frame = encodeBigEndianLengthPrefixed(encodePlistXml(body));
    if (this.tlsSocket && this.carrier && !this.carrier.unhooked) this.tlsSocket.write(frame);
    else this.raw.write(frame);
    while (this.replies.length === 0) await new Promise<void>((resolve) => (this.waiter = resolve));
    return this.replies.shift() as PlistDict;
  }

  async startTls(cert: Uint8Array, key: Uint8Array): Promise<tls.TLSSocket> {
    this.carrier = new ClientCarrier(this.raw);
    const socket = tls.connect({
      socket: this.carrier,
      cert: Buffer.from(cert),
      key: Buffer.from(key),
      rejectUnauthorized: false,
      ciphers: 'DEFAULT:@SECLEVEL=0',
    });
    socket.on('data', (chunk: Buffer) => this.collect(this.tlsFrames, chunk));
    await new Promise<void>((resolve, reject) => {
      socket.once('secureConnect', resolve);
      socket.once('error', reject);
    });
    this.tlsSocket = socket;
    return socket;
  }

  /** Sends close_notify, then carries on in plain text (what libimobiledevice does after StopSession). */
  async stopTls(): Promise<void> {
    const socket = this.tlsSocket;
    if (!socket || !this.carrier) return;
    await new Promise<void>((resolve) => socket.end(resolve));
    this.carrier.unhooked = true;
    this.tlsSocket = undefined;
  }
}

function phoneOnUsbmux(): { phone: SimPhone; device: MuxDevice } {
  const phone = createPhone(
    { productType: 'iPhone10,1', batteryLevel: 58 },
    new SimClock(1000),
    new SeededRandom(5),
  );
  phone.plug('1-1.1');
  const device = new MuxDevice(1, phone, phone.enumeration, { faults: NO_FAULTS, link: UNTHROTTLED });
  new LockdownPersonality({ enterRecoveryMs: 1_000 }).attach(device);
  return { phone, device };
}

function connect(device: MuxDevice): Host {
  const [deviceEnd, hostEnd] = streamPair();
  expect(device.ports.connect(62078, deviceEnd)).toBe(true);
  return new Host(hostEnd);
}

describe('simulated lockdownd', () => {
  it('answers QueryType and public values without a session, and refuses the rest', async () => {
    const { phone, device } = phoneOnUsbmux();
    const host = connect(device);
    expect(await host.request({ Label: 't', Request: 'QueryType' })).toEqual({
      Request: 'QueryType',
      Type: 'com.apple.mobile.lockdown',
    });
    expect(await host.request({ Request: 'GetValue', Key: 'UniqueChipID' })).toMatchObject({
      Request: 'GetValue',
      Key: 'UniqueChipID',
      Value: Number(phone.identity.ecid),
    });
    expect((await host.request({ Request: 'GetValue', Key: 'HardwareModel' })).Value).toBe('D20AP');
    expect(await host.request({ Request: 'GetValue', Key: 'SerialNumber' })).toMatchObject({
      Error: 'GetProhibited',
    });
    expect(await host.request({ Request: 'GetValue', Domain: 'com.apple.mobile.battery' })).toMatchObject({
      Error: 'GetProhibited',
    });
    expect(
      await host.request({ Request: 'StartService', Service: 'com.apple.mobile.diagnostics_relay' }),
    ).toMatchObject({
      Error: 'SessionInactive',
    });
    expect(
      await host.request({ Request: 'StartSession', HostID: 'NOT-PAIRED', SystemBUID: 'X' }),
    ).toMatchObject({
      Error: 'InvalidHostID',
    });
    device.close();
  });

  it('pairs, runs a TLS session with the pair record, and returns to plain text after StopSession', async () => {
    const { phone, device } = phoneOnUsbmux();
    const host = connect(device);
    const key = (await host.request({ Request: 'GetValue', Key: 'DevicePublicKey' })).Value as Uint8Array;
    expect(Buffer.from(key).toString()).toContain('BEGIN RSA PUBLIC KEY');
    const record = await generatePairRecord({ devicePublicKeyPem: key, systemBuid: 'SIM-BUID' });

    const paired = await host.request({
      Request: 'Pair',
      PairRecord: pairRequestRecord(record),
      ProtocolVersion: '2',
    });
    expect(paired.Request).toBe('Pair');
    expect(paired.EscrowBag).toBeInstanceOf(Uint8Array);
    expect(paired.Error).toBeUndefined();
    expect(await host.request({ Request: 'ValidatePair', PairRecord: pairRequestRecord(record) })).toEqual({
      Request: 'ValidatePair',
    });

    const session = await host.request({
      Request: 'StartSession',
      HostID: record.hostId,
      SystemBUID: 'SIM-BUID',
    });
    expect(session).toMatchObject({ Request: 'StartSession', EnableSessionSSL: true });
    const socket = await host.startTls(record.rootCertificate, record.rootPrivateKey as Uint8Array);
    // The device serves the certificate the host made for it.
    expect(socket.getPeerX509Certificate()?.toString()).toBe(
      Buffer.from(record.deviceCertificate).toString(),
    );

    const battery = await host.request({ Request: 'GetValue', Domain: 'com.apple.mobile.battery' });
    expect(battery.Value).toMatchObject({
      BatteryCurrentCapacity: 58,
      HasBattery: true,
      ExternalConnected: true,
    });
    expect((await host.request({ Request: 'GetValue', Key: 'SerialNumber' })).Value).toBe(
      phone.identity.serialNumber,
    );
    const service = await host.request({
      Request: 'StartService',
      Service: 'com.apple.mobile.diagnostics_relay',
    });
    expect(service).toMatchObject({ EnableServiceSSL: true });
    expect(device.ports.isListening(service.Port as number)).toBe(true);
    expect(await host.request({ Request: 'StartService', Service: 'com.apple.afc.nope' })).toMatchObject({
      Error: 'InvalidService',
    });

    expect(await host.request({ Request: 'StopSession', SessionID: session.SessionID as string })).toEqual({
      Request: 'StopSession',
    });
    await host.stopTls();
    expect(await host.request({ Request: 'QueryType' })).toMatchObject({ Type: 'com.apple.mobile.lockdown' });
    device.close();
  });

  it('refuses a pair record whose device certificate carries another key', async () => {
    const { device } = phoneOnUsbmux();
    const host = connect(device);
    const other = createPhone({ productType: 'iPhone9,1' }, new SimClock(1), new SeededRandom(9));
    const otherDevice = new MuxDevice(2, other, 0, { faults: NO_FAULTS, link: UNTHROTTLED });
    new LockdownPersonality().attach(otherDevice);
    const otherHost = connect(otherDevice);
    const foreignKey = (await otherHost.request({ Request: 'GetValue', Key: 'DevicePublicKey' }))
      .Value as Uint8Array;
    const record = await generatePairRecord({ devicePublicKeyPem: foreignKey, systemBuid: 'SIM-BUID' });
    expect(await host.request({ Request: 'Pair', PairRecord: pairRequestRecord(record) })).toEqual({
      Request: 'Pair',
      Error: 'InvalidPairRecord',
    });
    device.close();
    otherDevice.close();
  });

  it('EnterRecovery answers, then the phone leaves usbmux and comes back in iBoot with auto-boot false', async () => {
    const { phone, device } = phoneOnUsbmux();
    const host = connect(device);
    const detached = new Promise<void>((resolve) => phone.once('detach', () => resolve()));
    expect(await host.request({ Request: 'EnterRecovery' })).toEqual({ Request: 'EnterRecovery' });
    await detached;
    expect(phone.nvram.get('auto-boot')).toBe('false');
    await new Promise<void>((resolve) => phone.once('stage', () => resolve()));
    expect(phone.stage).toBe('iboot');
    expect(phone.presence).toBe('usb');
    device.close();
  });
});
