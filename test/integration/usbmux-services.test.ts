// Host clients (UsbmuxClient over TCP, LockdownClient with TLS, DiagnosticsRelayClient,
// RestoredClient, AsrSender, FdrClient) against small device-side peers written here with the
// protocols codecs, over real loopback sockets. A stand-in usbmuxd answers Connect and then
// hands the very same socket to the peer for that device port, as the real daemon's pipe does.
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { Duplex } from 'node:stream';
import tls from 'node:tls';
import { CancelledError, type RandomAccessSource } from '@bench/bench-domain';
import {
  ASR_CHUNK_SIZE,
  asrDeviceMessages,
  AsrPlistDecoder,
  asrWireLength,
  decodeAsrPacketInfo,
  decodeFdrMessage,
  decodePlistDict,
  decodeUsbmuxPacket,
  encodeAttached,
  encodeBigEndianLengthPrefixed,
  encodeFdrMessage,
  encodePlistXml,
  encodeUsbmuxPlist,
  FrameDecoder,
  framePayload,
  fdrMessageFormat,
  LockdownError,
  plistServiceFormat,
  resultBody,
  restoredDeviceMessages,
  restoredReplies,
  stripFdrPrelude,
  swapPort,
  usbmuxFormat,
  type PairRecord,
  type PlistDict,
  type RestoredMessage,
} from '@bench/protocols';
import {
  ASR_CHUNKS_PER_READ,
  AsrError,
  AsrSender,
  DeviceServiceError,
  DiagnosticsRelayClient,
  FdrClient,
  LockdownClient,
  readLockdownBattery,
  RestoredClient,
  RestoreStatusError,
  UsbmuxClient,
  UsbmuxError,
} from '@bench/usb-transport';

// ---------------------------------------------------------------------------------------------
// Device-side building blocks

type PortPeer = (socket: Duplex, leftover: Buffer) => void;
interface PortEntry {
  peer: PortPeer;
  /** Sent in the same write as the Connect Result (a device that speaks first, like ASR). */
  greeting?: () => Buffer;
}

const DEVICE = { deviceId: 7, serialNumber: '00008015-0000000000001234', connectionType: 'USB' };

/** usbmuxd stand-in on TCP: ListDevices, Listen (+Attached), ReadPairRecord, Connect to peers. */
class FakeUsbmuxd {
  readonly ports = new Map<number, PortEntry>();
  readonly deviceSockets = new Set<net.Socket>();
  pairRecord?: Buffer;
  private readonly sockets = new Set<net.Socket>();
  private server = net.createServer((socket) => this.accept(socket));

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `127.0.0.1:${(this.server.address() as net.AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(socket: net.Socket): void {
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', () => undefined);
    const decoder = new FrameDecoder(usbmuxFormat());
    const onData = (chunk: Buffer) => {
      for (
        let frames = decoder.push(chunk, 1);
        frames.length > 0;
        frames = decoder.push(Buffer.alloc(0), 1)
      ) {
        const { header, body } = decodeUsbmuxPacket(frames[0]);
        const reply = (dict: PlistDict) => socket.write(encodeUsbmuxPlist(header.tag, dict));
        switch (body.MessageType) {
          case 'ListDevices':
            reply({ DeviceList: [encodeAttached(DEVICE)] });
            break;
          case 'Listen':
            reply(resultBody(0));
            socket.write(encodeUsbmuxPlist(0, encodeAttached(DEVICE)));
            break;
          case 'ReadPairRecord':
            reply(this.pairRecord ? { PairRecordData: this.pairRecord } : resultBody(2));
            break;
          case 'Connect': {
            const entry = this.ports.get(swapPort(body.PortNumber as number));
            if (body.DeviceID !== DEVICE.deviceId) {
              reply(resultBody(2));
              break;
            }
            if (!entry) {
              reply(resultBody(3));
              break;
            }
            socket.off('data', onData);
            const result = encodeUsbmuxPlist(header.tag, resultBody(0));
            socket.write(entry.greeting ? Buffer.concat([result, entry.greeting()]) : result);
            this.deviceSockets.add(socket);
            entry.peer(socket, decoder.takeRemaining());
            return;
          }
          default:
            reply(resultBody(1));
        }
      }
    };
    socket.on('data', onData);
  }
}

/** The device end of a plist service (4-byte length + plist), with an optional TLS upgrade. */
class PlistPeer {
  private decoder = new FrameDecoder(plistServiceFormat());
  private queue: PlistDict[] = [];
  private waiters: Array<(dict: PlistDict) => void> = [];
  private stream: Duplex;

  constructor(stream: Duplex, leftover: Buffer = Buffer.alloc(0)) {
    this.stream = stream;
    stream.on('data', this.onData);
    stream.on('error', () => undefined);
    if (leftover.length > 0) this.onData(leftover);
  }

  next(): Promise<PlistDict> {
    const queued = this.queue.shift();
    return queued ? Promise.resolve(queued) : new Promise((resolve) => this.waiters.push(resolve));
  }

  send(dict: PlistDict): void {
    this.stream.write(encodeBigEndianLengthPrefixed(encodePlistXml(dict)));
  }

  /** Server-side TLS on the same socket (what lockdownd does after EnableSessionSSL). */
  startTls(options: tls.TlsOptions): tls.TLSSocket {
    this.stream.off('data', this.onData);
    const secure = new tls.TLSSocket(this.stream as net.Socket, { ...options, isServer: true });
    secure.on('error', () => undefined);
    secure.on('data', this.onData);
    this.stream = secure;
    return secure;
  }

  destroy(): void {
    this.stream.destroy();
  }

  private readonly onData = (chunk: Buffer): void => {
    for (const frame of this.decoder.push(chunk)) {
      const dict = decodePlistDict(framePayload(frame));
      const waiter = this.waiters.shift();
      if (waiter) waiter(dict);
      else this.queue.push(dict);
    }
  };
}

// ---------------------------------------------------------------------------------------------
// Certificates: a pair record the way pairing makes one (root CA issuing host and device certs)

interface Pki {
  record: PairRecord;
  deviceKey: Buffer;
  deviceCert: Buffer;
  strangerCert: Buffer;
  strangerKey: Buffer;
}

function makePki(dir: string): Pki {
  const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  const issue = (name: string, ca: string) => {
    openssl(
      'req',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      `${name}.key`,
      '-out',
      `${name}.csr`,
      '-subj',
      `/CN=${name}`,
    );
    openssl(
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      `${ca}.crt`,
      '-CAkey',
      `${ca}.key`,
      '-CAcreateserial',
      '-out',
      `${name}.crt`,
      '-days',
      '3650',
    );
  };
  for (const ca of ['root', 'otherroot']) {
    openssl(
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      `${ca}.key`,
      '-out',
      `${ca}.crt`,
      '-days',
      '3650',
      '-subj',
      `/CN=${ca}`,
    );
  }
  issue('host', 'root');
  issue('device', 'root');
  issue('stranger', 'otherroot');
  const read = (file: string) => readFileSync(path.join(dir, file));
  return {
    record: {
      hostId: '5B1C6A3E-0000-4000-8000-00000000BE0C',
      systemBuid: '4F89A4E2-0C22-DB18-41AA-C36A130B47BF',
      hostCertificate: read('host.crt'),
      hostPrivateKey: read('host.key'),
      rootCertificate: read('root.crt'),
      rootPrivateKey: read('root.key'),
      deviceCertificate: read('device.crt'),
    },
    deviceKey: read('device.key'),
    deviceCert: read('device.crt'),
    strangerCert: read('stranger.crt'),
    strangerKey: read('stranger.key'),
  };
}

// ---------------------------------------------------------------------------------------------

let pkiDir: string;
let pki: Pki;
let usbmuxd: FakeUsbmuxd;
let usbmux: UsbmuxClient;

beforeAll(async () => {
  pkiDir = mkdtempSync(path.join(os.tmpdir(), 'bench-pki-'));
  pki = makePki(pkiDir);
});
afterAll(() => rmSync(pkiDir, { recursive: true, force: true }));

beforeEach(async () => {
  usbmuxd = new FakeUsbmuxd();
  usbmux = UsbmuxClient.forAddress(await usbmuxd.start());
});
afterEach(async () => usbmuxd.stop());

describe('UsbmuxClient over TCP (host:port address)', () => {
  it('lists, listens and connects; a closed port is CONNREFUSED', async () => {
    await expect(usbmux.listDevices()).resolves.toEqual([DEVICE]);
    const events = await usbmux.listen();
    const first = await events.next();
    expect(first).toEqual({ value: { type: 'attached', device: DEVICE }, done: false });
    events.close();
    await expect(usbmux.connect(DEVICE.deviceId, 4242)).rejects.toMatchObject({
      kind: 'result',
      resultNumber: 3,
      failureClass: 'transient-usb',
    });
    await expect(usbmux.connect(99, 62078)).rejects.toBeInstanceOf(UsbmuxError);
  });
});

// ---------------------------------------------------------------------------------------------
// lockdownd + diagnostics relay

const BATTERY_REGISTRY: PlistDict = {
  Voltage: 4213,
  InstantAmperage: -616,
  Temperature: 3024,
  CycleCount: 311,
  CurrentCapacity: 87,
  MaxCapacity: 100,
  DesignCapacity: 2716,
  IsCharging: true,
  ExternalConnected: true,
};

function serveLockdown(options: { tlsCert?: Buffer; tlsKey?: Buffer } = {}): { requests: PlistDict[] } {
  const requests: PlistDict[] = [];
  usbmuxd.ports.set(62078, {
    peer: (socket, leftover) => {
      const peer = new PlistPeer(socket, leftover);
      let session: string | undefined;
      const loop = async () => {
        for (;;) {
          const request = await peer.next();
          requests.push(request);
          const name = request.Request as string;
          const answer = (dict: PlistDict) => peer.send({ Request: name, ...dict });
          switch (name) {
            case 'QueryType':
              answer({ Type: 'com.apple.mobile.lockdown' });
              break;
            case 'GetValue':
              if (request.Domain === 'com.apple.mobile.battery') {
                if (!session) answer({ Error: 'SessionInactive' });
                else
                  answer({
                    Domain: request.Domain,
                    Value: { BatteryCurrentCapacity: 87, BatteryIsCharging: true, ExternalConnected: true },
                  });
              } else if (request.Key === 'UniqueChipID') answer({ Key: 'UniqueChipID', Value: 0x1234 });
              else answer({ Error: 'MissingValue' });
              break;
            case 'EnterRecovery':
              answer({});
              peer.destroy();
              return;
            case 'StartSession':
              if (request.HostID !== pki.record.hostId) {
                answer({ Error: 'InvalidHostID' });
                break;
              }
              session = 'SESSION-1';
              answer({ SessionID: session, EnableSessionSSL: true });
              peer.startTls({
                cert: options.tlsCert ?? pki.deviceCert,
                key: options.tlsKey ?? pki.deviceKey,
                ca: pki.record.rootCertificate as Buffer,
                requestCert: true,
                rejectUnauthorized: true, // the host must present a certificate issued by the root
              });
              break;
            case 'StartService':
              if (!session) answer({ Error: 'SessionInactive' });
              else if (request.Service === 'com.apple.mobile.diagnostics_relay')
                answer({ Service: request.Service, Port: 49152, EnableServiceSSL: true });
              else answer({ Error: 'InvalidService' });
              break;
            case 'StopSession':
              answer({});
              session = undefined;
              break;
            case 'Goodbye':
              answer({});
              break;
          }
        }
      };
      void loop();
    },
  });
  usbmuxd.ports.set(49152, {
    peer: (socket) => {
      const peer = new PlistPeer(socket);
      peer.startTls({
        cert: pki.deviceCert,
        key: pki.deviceKey,
        ca: pki.record.rootCertificate as Buffer,
        requestCert: true,
        rejectUnauthorized: true,
      });
      const loop = async () => {
        for (;;) {
          const request = await peer.next();
          if (request.Request === 'IORegistry' && request.EntryClass === 'IOPMPowerSource') {
            peer.send({ Status: 'Success', Diagnostics: { IORegistry: BATTERY_REGISTRY } });
          } else if (request.Request === 'Goodbye') peer.send({ Status: 'Success' });
          else peer.send({ Status: 'UnknownRequest' });
        }
      };
      void loop();
    },
  });
  return { requests };
}

describe('LockdownClient against a lockdownd peer', () => {
  it('queries type and values, and types the device Error strings', async () => {
    const { requests } = serveLockdown();
    const lockdown = await LockdownClient.open(usbmux, DEVICE.deviceId, { label: 'bench-test' });
    await expect(lockdown.queryType()).resolves.toBe('com.apple.mobile.lockdown');
    await expect(lockdown.getValue(undefined, 'UniqueChipID')).resolves.toBe(0x1234);
    const refused = lockdown.readBattery();
    await expect(refused).rejects.toBeInstanceOf(LockdownError);
    await expect(refused).rejects.toMatchObject({ code: 'SessionInactive', request: 'GetValue' });
    await expect(lockdown.getValue(undefined, 'Nope')).rejects.toMatchObject({ code: 'MissingValue' });
    expect(requests[0]).toEqual({ Label: 'bench-test', Request: 'QueryType' });
    lockdown.close();
  });

  it('refuses a session for a stranger HostID with InvalidHostID', async () => {
    serveLockdown();
    const lockdown = await LockdownClient.open(usbmux, DEVICE.deviceId);
    await expect(lockdown.startSession({ ...pki.record, hostId: 'NOT-PAIRED' })).rejects.toMatchObject({
      code: 'InvalidHostID',
    });
    lockdown.close();
  });

  it('starts a TLS session with the pair record, reads the battery, starts the diagnostics relay over SSL', async () => {
    serveLockdown();
    const lockdown = await LockdownClient.open(usbmux, DEVICE.deviceId);
    await expect(lockdown.startSession(pki.record, { verifyDevice: true })).resolves.toEqual({
      sessionId: 'SESSION-1',
      enableSessionSsl: true,
    });
    expect(lockdown.service.channel).toBeInstanceOf(tls.TLSSocket);
    await expect(lockdown.readBattery()).resolves.toEqual({
      currentCapacity: 87,
      isCharging: true,
      externalConnected: true,
      externalChargeCapable: undefined,
      fullyCharged: undefined,
      gasGaugeCapability: undefined,
      hasBattery: undefined,
    });
    await expect(lockdown.startService('com.apple.nope')).rejects.toMatchObject({ code: 'InvalidService' });

    const relay = await DiagnosticsRelayClient.start(
      lockdown,
      (port) => usbmux.connect(DEVICE.deviceId, port),
      pki.record,
    );
    expect(relay.service.channel).toBeInstanceOf(tls.TLSSocket);
    await expect(relay.battery()).resolves.toMatchObject({
      voltageMv: 4213,
      instantAmperageMa: -616,
      temperatureC: 30.24,
      cycleCount: 311,
      currentCapacity: 87,
      isCharging: true,
    });
    await relay.goodbye();
    relay.close();
    await lockdown.stopSession();
    expect(lockdown.service.closed).toBe(true);
  });

  it('reads the battery in one call (pair record from usbmuxd, session, domain)', async () => {
    serveLockdown();
    usbmuxd.pairRecord = encodePlistXml({
      HostID: pki.record.hostId,
      SystemBUID: pki.record.systemBuid,
      HostCertificate: pki.record.hostCertificate,
      HostPrivateKey: pki.record.hostPrivateKey,
      RootCertificate: pki.record.rootCertificate,
      DeviceCertificate: pki.record.deviceCertificate,
    });
    await expect(
      readLockdownBattery(usbmux, { deviceId: DEVICE.deviceId, udid: DEVICE.serialNumber }),
    ).resolves.toMatchObject({ currentCapacity: 87, isCharging: true });
  });

  it('with verifyDevice, refuses a device certificate not issued by the pair record root', async () => {
    serveLockdown({ tlsCert: pki.strangerCert, tlsKey: pki.strangerKey });
    const lockdown = await LockdownClient.open(usbmux, DEVICE.deviceId);
    await expect(lockdown.startSession(pki.record, { verifyDevice: true })).rejects.toMatchObject({
      kind: 'tls',
      failureClass: 'host-setup',
    });
    // libimobiledevice's default (no verification) accepts it
    serveLockdown({ tlsCert: pki.strangerCert, tlsKey: pki.strangerKey });
    const lenient = await LockdownClient.open(usbmux, DEVICE.deviceId);
    await expect(lenient.startSession(pki.record)).resolves.toMatchObject({ enableSessionSsl: true });
    lenient.close();
  });

  it('EnterRecovery: the device answers and drops the connection', async () => {
    serveLockdown();
    const lockdown = await LockdownClient.open(usbmux, DEVICE.deviceId);
    await lockdown.enterRecovery();
    await expect(lockdown.queryType()).rejects.toMatchObject({
      kind: 'closed',
      failureClass: 'transient-usb',
    });
  });
});

// ---------------------------------------------------------------------------------------------
// restored

type RestoredScript = (peer: PlistPeer) => Promise<void>;

function serveRestored(script: RestoredScript): { requests: PlistDict[]; done: Promise<void> } {
  const requests: PlistDict[] = [];
  let finish: () => void = () => undefined;
  const done = new Promise<void>((resolve) => (finish = resolve));
  usbmuxd.ports.set(62078, {
    peer: (socket, leftover) => {
      const peer = new PlistPeer(socket, leftover);
      const loop = async () => {
        for (;;) {
          const request = await peer.next();
          requests.push(request);
          switch (request.Request) {
            case 'QueryType':
              peer.send({
                Type: 'com.apple.mobile.restored',
                RestoreProtocolVersion: 14,
                SerialNumber: 'FAKESERIAL01',
                HardwareModel: 'D22AP',
              });
              break;
            case 'QueryValue':
              if (request.QueryKey === 'HardwareInfo') {
                peer.send({
                  HardwareInfo: {
                    UniqueChipID: 0x1234,
                    BoardID: 6,
                    ChipID: 0x8015,
                    ProductionMode: true,
                    SupportsImage4: true,
                  },
                });
              } else peer.send({});
              break;
            case 'StartRestore':
              await script(peer);
              finish();
              break;
            case 'Goodbye':
              peer.send({ Result: 'Success' });
              break;
          }
        }
      };
      void loop();
    },
  });
  return { requests, done };
}

async function openRestored(): Promise<RestoredClient> {
  const client = await RestoredClient.open(usbmux, DEVICE.deviceId, { label: 'bench-test' });
  const type = await client.queryType();
  expect(type).toMatchObject({ type: 'com.apple.mobile.restored', restoreProtocolVersion: 14 });
  return client;
}

describe('RestoredClient against a restored peer', () => {
  it('does the handshake like idevicerestore and runs a restore through the handler table', async () => {
    const sideMessages: PlistDict[] = [];
    usbmuxd.ports.set(5555, {
      peer: (socket, leftover) => {
        const side = new PlistPeer(socket, leftover);
        void side.next().then((m) => sideMessages.push(m));
      },
    });
    const deviceSaw: PlistDict[] = [];
    const { requests, done } = serveRestored(async (peer) => {
      peer.send(restoredDeviceMessages.progress(11, 0));
      peer.send(restoredDeviceMessages.dataRequest('RootTicket'));
      deviceSaw.push(await peer.next());
      peer.send(restoredDeviceMessages.dataRequest('KernelCache', { dataPort: 5555 }));
      peer.send(restoredDeviceMessages.checkpoint(0x1603, 'restore_images', 0, true));
      peer.send({
        MsgType: 'AsyncDataRequestMsg',
        DataType: 'URLAsset',
        Arguments: { RequestURL: 'http://x' },
      });
      peer.send({ MsgType: 'RestoreAttestation' });
      deviceSaw.push(await peer.next(), await peer.next());
      peer.send(restoredDeviceMessages.progress(14, 100));
      peer.send(restoredDeviceMessages.status(0));
      deviceSaw.push(await peer.next());
    });

    const client = await openRestored();
    await expect(client.hardwareInfo()).resolves.toMatchObject({
      uniqueChipId: 0x1234n,
      supportsImage4: true,
    });
    await expect(client.savedDebugInfo()).resolves.toEqual({});
    await client.startRestore({ AutoBootDelay: 0 });

    const seen: string[] = [];
    const ticket = Buffer.from('IM4M-ticket');
    const last = await client.runMessageLoop({
      ProgressMsg: (m) => void seen.push(`progress ${m.operation}/${m.progress}`),
      CheckpointMsg: (m) => void seen.push(`checkpoint ${m.name}`),
      DataRequestMsg: async (m, { client: c }) => {
        seen.push(`data ${m.dataType}`);
        if (m.dataType === 'RootTicket') return c.send(restoredReplies.rootTicket(ticket));
        if (m.dataType === 'KernelCache' && m.dataPort) {
          const side = await c.openDataPort(m.dataPort);
          await side.send(restoredReplies.kernelCache(Buffer.from('kernel')));
          side.close();
          return;
        }
        throw new Error(`unexpected ${m.dataType}`);
      },
      AsyncDataRequestMsg: async (m, { client: c }) => {
        seen.push(`async ${m.dataType}`);
        await c.send({ ResponseStatus: 200, ResponseBodyDone: true });
      },
    });
    expect(last).toMatchObject({ msgType: 'StatusMsg', status: 0 });
    await done; // the device has read our last reply
    expect(seen).toEqual([
      'progress 11/0',
      'data RootTicket',
      'data KernelCache',
      'checkpoint restore_images',
      'async URLAsset',
      'progress 14/100',
    ]);
    expect(deviceSaw[0]).toEqual({ RootTicketData: new Uint8Array(ticket) });
    expect(deviceSaw.slice(1, 3)).toEqual(
      expect.arrayContaining([
        { RestoreShouldAttest: false },
        { ResponseStatus: 200, ResponseBodyDone: true },
      ]),
    );
    expect(deviceSaw[3]).toEqual({ MsgType: 'ReceivedFinalStatusMsg' });
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(sideMessages).toEqual([{ KernelCacheFile: new Uint8Array(Buffer.from('kernel')) }]);
    await client.goodbye();
    expect(requests.map((r) => r.Request)).toEqual([
      'QueryType',
      'QueryValue',
      'QueryValue',
      'StartRestore',
      'Goodbye',
    ]);
    expect(requests[3]).toMatchObject({
      Label: 'bench-test',
      RestoreProtocolVersion: 14,
      RestoreOptions: { AutoBootDelay: 0 },
    });
    client.close();
  });

  it('a failing handler fails the loop with its own error', async () => {
    serveRestored(async (peer) => {
      peer.send(restoredDeviceMessages.dataRequest('RootTicket'));
      await peer.next();
    });
    const client = await openRestored();
    await client.startRestore({});
    const boom = new Error('no ticket on this bench');
    await expect(client.runMessageLoop({ DataRequestMsg: () => Promise.reject(boom) })).rejects.toBe(boom);
    client.close();
  });

  it('a failing background (async) handler fails the loop while the device is quiet', async () => {
    serveRestored(async (peer) => {
      peer.send({ MsgType: 'AsyncDataRequestMsg', DataType: 'URLAsset' });
      await peer.next(); // never comes
    });
    const client = await openRestored();
    await client.startRestore({});
    const boom = new Error('download refused');
    await expect(
      client.runMessageLoop({ AsyncDataRequestMsg: async () => Promise.reject(boom) }),
    ).rejects.toBe(boom);
    client.close();
  });

  it('a hardware StatusMsg ends the loop as a device-hardware RestoreStatusError with the device log', async () => {
    serveRestored(async (peer) => {
      peer.send(restoredDeviceMessages.status(6, { amrError: 6, log: 'disk0: NAND error' }));
      await peer.next();
    });
    const client = await openRestored();
    await client.startRestore({});
    const failure = client.runMessageLoop({});
    await expect(failure).rejects.toBeInstanceOf(RestoreStatusError);
    await expect(failure).rejects.toMatchObject({
      failureClass: 'device-hardware',
      evidence: { statusCode: 6, deviceLog: 'disk0: NAND error' },
    });
    client.close();
  });

  it('a dropped connection is transient-usb, and cancel is cancelled', async () => {
    serveRestored(async (peer) => {
      peer.send(restoredDeviceMessages.progress(13, 5));
      await new Promise((resolve) => setTimeout(resolve, 20));
      peer.destroy();
    });
    const client = await openRestored();
    await client.startRestore({});
    const progress: RestoredMessage[] = [];
    await expect(client.runMessageLoop({ ProgressMsg: (m) => void progress.push(m) })).rejects.toMatchObject({
      kind: 'closed',
      failureClass: 'transient-usb',
    });
    expect(progress).toHaveLength(1);

    serveRestored(async (peer) => {
      await peer.next(); // quiet device
    });
    const quiet = await openRestored();
    await quiet.startRestore({});
    const controller = new AbortController();
    const loop = quiet.runMessageLoop({}, { signal: controller.signal });
    setTimeout(() => controller.abort(), 20);
    await expect(loop).rejects.toBeInstanceOf(CancelledError);
    quiet.close();
  });
});

// ---------------------------------------------------------------------------------------------
// ASR

class BufferSource implements RandomAccessSource {
  reads = 0;
  bytesRead = 0;
  constructor(readonly data: Buffer) {}
  get size(): number {
    return this.data.length;
  }
  async read(offset: number, length: number): Promise<Buffer> {
    this.reads++;
    this.bytesRead += length;
    return Buffer.from(this.data.subarray(offset, offset + length));
  }
}

/** A large image without the memory: byte at x is x mod 251. */
class PatternSource implements RandomAccessSource {
  // the sender reads ASR_CHUNKS_PER_READ chunks at a time
  private static readonly block = Buffer.from(
    Array.from({ length: ASR_CHUNK_SIZE * ASR_CHUNKS_PER_READ + 251 }, (_, i) => i % 251),
  );
  bytesRead = 0;
  constructor(readonly size: number) {}
  static expected(offset: number, length: number): Buffer {
    return PatternSource.block.subarray(offset % 251, (offset % 251) + length);
  }
  async read(offset: number, length: number): Promise<Buffer> {
    this.bytesRead += length;
    return Buffer.from(PatternSource.expected(offset, length));
  }
}

interface AsrPeerOptions {
  checksum: boolean;
  expected: (offset: number, length: number) => Buffer;
  oob?: Array<[number, number]>;
  /** Stop reading the payload for this long first (a slow device). */
  stallMs?: number;
  onStall?: () => void;
  /** Drop the connection after this many payload bytes. */
  closeAfter?: number;
}

interface AsrPeerReport {
  packetInfo?: PlistDict;
  oobMatched: number;
  payloadBytes: number;
  chunksVerified: number;
  closed: boolean;
  error?: string;
}

function serveAsr(options: AsrPeerOptions): AsrPeerReport {
  const report: AsrPeerReport = { oobMatched: 0, payloadBytes: 0, chunksVerified: 0, closed: false };
  usbmuxd.ports.set(12345, {
    greeting: () => encodePlistXml(asrDeviceMessages.initiate(options.checksum)),
    peer: (socket, leftover) => {
      socket.on('close', () => (report.closed = true));
      const decoder = new AsrPlistDecoder();
      let raw: Buffer = Buffer.alloc(0);
      let want: ((bytes: Buffer) => void) | undefined;
      let wantLength = 0;
      let plistWaiter: ((dict: PlistDict) => void) | undefined;
      let payload = false;
      let size = 0;
      let expectOffset = 0;
      let pending: Buffer = Buffer.alloc(0);
      const consumePayload = (chunk: Buffer) => {
        report.payloadBytes += chunk.length;
        pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
        const unit = (len: number) => len + (options.checksum ? 20 : 0);
        for (;;) {
          const len = Math.min(ASR_CHUNK_SIZE, size - expectOffset);
          if (len <= 0 && !(options.checksum && size === 0 && report.chunksVerified === 0)) break;
          if (pending.length < unit(len)) break;
          const data = pending.subarray(0, len);
          if (!data.equals(options.expected(expectOffset, len)))
            report.error ??= `payload differs at ${expectOffset}`;
          if (
            options.checksum &&
            !pending.subarray(len, len + 20).equals(createHash('sha1').update(data).digest())
          ) {
            report.error ??= `bad SHA-1 after chunk at ${expectOffset}`;
          }
          report.chunksVerified++;
          expectOffset += len;
          pending = pending.subarray(unit(len));
          if (size === 0) break;
        }
        if (options.closeAfter !== undefined && report.payloadBytes >= options.closeAfter) socket.destroy();
      };
      const onData = (chunk: Buffer) => {
        if (payload) return consumePayload(chunk);
        if (plistWaiter) {
          const [dict] = decoder.push(chunk);
          if (dict) {
            const w = plistWaiter;
            plistWaiter = undefined;
            raw = decoder.takeRemaining();
            w(dict);
          }
          return;
        }
        raw = Buffer.concat([raw, chunk]);
        if (want && raw.length >= wantLength) {
          const w = want;
          want = undefined;
          const bytes = raw.subarray(0, wantLength);
          raw = raw.subarray(wantLength);
          w(bytes);
        }
      };
      socket.on('data', onData);
      const nextPlist = () => new Promise<PlistDict>((resolve) => (plistWaiter = resolve));
      const readExactly = (n: number) =>
        new Promise<Buffer>((resolve) => {
          want = resolve;
          wantLength = n;
          onData(Buffer.alloc(0));
        });
      const script = async () => {
        const waiting = nextPlist();
        if (leftover.length) onData(leftover);
        const info = await waiting;
        report.packetInfo = info;
        size = decodeAsrPacketInfo(info).payloadSize;
        for (const [offset, length] of options.oob ?? []) {
          socket.write(encodePlistXml(asrDeviceMessages.oobData(offset, length)));
          const bytes = await readExactly(length);
          if (bytes.equals(options.expected(offset, length))) report.oobMatched++;
          else report.error ??= `OOB ${offset}+${length} differs`;
        }
        const early = raw;
        payload = true;
        if (options.stallMs) {
          socket.pause();
          setTimeout(() => {
            options.onStall?.();
            socket.resume();
          }, options.stallMs);
        }
        socket.write(encodePlistXml(asrDeviceMessages.payload()));
        if (early.length) consumePayload(early);
      };
      void script();
    },
  });
  return report;
}

async function asrChannel(): Promise<Duplex> {
  return AsrSender.connect((port, signal) => usbmux.connect(DEVICE.deviceId, port, { signal }));
}

const closedSoon = (report: AsrPeerReport) =>
  new Promise<void>((resolve, reject) => {
    const deadline = Date.now() + 2000;
    const check = () =>
      report.closed
        ? resolve()
        : Date.now() > deadline
          ? reject(new Error('peer socket still open'))
          : setTimeout(check, 10);
    check();
  });

describe('AsrSender against an ASR peer', () => {
  it('serves OOBData at random offsets and streams 300000 bytes as 3 chunks each followed by its SHA-1', async () => {
    const source = new BufferSource(randomBytes(300000));
    const oob: Array<[number, number]> = [
      [0, 512],
      [299744, 256],
      ...Array.from({ length: 8 }, (): [number, number] => {
        const length = 1 + Math.floor(Math.random() * 4000);
        return [Math.floor(Math.random() * (300000 - length)), length];
      }),
    ];
    const report = serveAsr({ checksum: true, oob, expected: (o, l) => source.data.subarray(o, o + l) });
    const progress: number[] = [];
    const sender = new AsrSender(await asrChannel(), source, { onProgress: (sent) => progress.push(sent) });
    await expect(sender.send()).resolves.toEqual({
      checksumChunks: true,
      oobRequests: oob.length,
      payloadBytes: 300000,
      wireBytes: 300000 + 3 * 20,
    });
    await closedSoon(report);
    expect(report.error).toBeUndefined();
    expect(report.packetInfo).toMatchObject({
      'Checksum Chunk Size': 131072,
      Payload: { Port: 1, Size: 300000 },
    });
    expect(report.oobMatched).toBe(oob.length);
    expect(report.payloadBytes).toBe(asrWireLength(300000, true));
    expect(report.chunksVerified).toBe(3);
    expect(progress).toEqual([131072, 262144, 300000]);
  });

  it('sends only raw bytes without checksum chunks, and one SHA-1 for an empty image', async () => {
    const source = new BufferSource(randomBytes(200000));
    const report = serveAsr({ checksum: false, expected: (o, l) => source.data.subarray(o, o + l) });
    await new AsrSender(await asrChannel(), source).send();
    await closedSoon(report);
    expect(report.packetInfo).not.toHaveProperty('Checksum Chunk Size');
    expect(report.payloadBytes).toBe(200000);
    expect(report.error).toBeUndefined();

    const empty = new BufferSource(Buffer.alloc(0));
    const emptyReport = serveAsr({ checksum: true, expected: () => Buffer.alloc(0) });
    await expect(new AsrSender(await asrChannel(), empty).send()).resolves.toMatchObject({ wireBytes: 20 });
    await closedSoon(emptyReport);
    expect(emptyReport.payloadBytes).toBe(20);
    expect(emptyReport.chunksVerified).toBe(1);
    expect(emptyReport.error).toBeUndefined();
  });

  it('respects backpressure: a device that stops reading stops the reads from the image', async () => {
    const size = 256 * 1024 * 1024;
    const source = new PatternSource(size);
    let readWhileStalled = 0;
    const report = serveAsr({
      checksum: true,
      expected: PatternSource.expected,
      stallMs: 600,
      onStall: () => (readWhileStalled = source.bytesRead),
    });
    await new AsrSender(await asrChannel(), source, { readAheadChunks: 4 }).send();
    await closedSoon(report);
    expect(report.error).toBeUndefined();
    expect(report.payloadBytes).toBe(asrWireLength(size, true));
    // Without backpressure all 256 MiB would have been read into memory during the stall. With
    // it: a few chunks of read-ahead plus what the socket buffers (user space + kernel) hold.
    expect(readWhileStalled).toBeGreaterThan(0);
    expect(readWhileStalled).toBeLessThan(32 * 1024 * 1024);
  }, 60_000);

  it('reads the payload in blocks of ASR_CHUNKS_PER_READ chunks into recycled buffers when the source can fill them (readInto)', async () => {
    const size = 8 * 1024 * 1024 + 12345;
    const targets = new Set<ArrayBufferLike>();
    let fills = 0;
    const source = new PatternSource(size);
    const fillable = Object.assign(source, {
      async readInto(offset: number, target: Buffer): Promise<number> {
        fills++;
        targets.add(target.buffer);
        return PatternSource.expected(offset, target.length).copy(target);
      },
    });
    const report = serveAsr({ checksum: true, expected: PatternSource.expected });
    await new AsrSender(await asrChannel(), fillable, { readAheadChunks: 4 }).send();
    await closedSoon(report);
    expect(report.error).toBeUndefined();
    expect(report.chunksVerified).toBe(Math.ceil(size / ASR_CHUNK_SIZE));
    expect(fills).toBe(Math.ceil(size / (ASR_CHUNK_SIZE * ASR_CHUNKS_PER_READ)));
    expect(source.bytesRead).toBe(0); // read() was not used for the payload
    expect(targets.size).toBeLessThanOrEqual(2); // one block read ahead + the block in the socket
  });

  it('a device that closes mid-payload is a transient-usb AsrError', async () => {
    const source = new PatternSource(64 * 1024 * 1024);
    serveAsr({ checksum: true, expected: PatternSource.expected, closeAfter: 1024 * 1024 });
    const sender = new AsrSender(await asrChannel(), source);
    const failure = sender.send();
    await expect(failure).rejects.toBeInstanceOf(AsrError);
    await expect(failure).rejects.toMatchObject({ kind: 'closed', failureClass: 'transient-usb' });
  });

  it('cancelling with the AbortSignal rejects with CancelledError and leaves no socket open', async () => {
    const source = new PatternSource(256 * 1024 * 1024);
    // slow device: it reads nothing for 300 ms (so the transfer is mid-way when we cancel), then
    // reads on and must see the connection end
    const report = serveAsr({ checksum: true, expected: PatternSource.expected, stallMs: 300 });
    const channel = await asrChannel();
    const controller = new AbortController();
    const sending = new AsrSender(channel, source, { signal: controller.signal }).send();
    setTimeout(() => controller.abort(), 100);
    await expect(sending).rejects.toBeInstanceOf(CancelledError);
    expect(channel.destroyed).toBe(true);
    await closedSoon(report);
    expect(report.payloadBytes).toBeLessThan(asrWireLength(source.size, true));
  });

  it('refuses an OOBData request beyond the image', async () => {
    const source = new BufferSource(Buffer.alloc(1000));
    serveAsr({ checksum: false, expected: () => Buffer.alloc(0), oob: [[900, 200]] });
    await expect(new AsrSender(await asrChannel(), source).send()).rejects.toMatchObject({
      kind: 'protocol',
    });
  });
});

// ---------------------------------------------------------------------------------------------
// FDR

describe('FdrClient against an FDR peer', () => {
  it('sends BeginCtrl\\0 and the BeginCtrl plist, and reads ConnPort', async () => {
    let request: PlistDict | undefined;
    usbmuxd.ports.set(1082, {
      peer: (socket, leftover) => {
        let bytes = leftover;
        const decoder = new FrameDecoder(fdrMessageFormat());
        socket.on('data', (chunk: Buffer) => {
          bytes = Buffer.concat([bytes, chunk]);
          if (bytes.length < 10) return;
          const [frame] = decoder.push(stripFdrPrelude(bytes));
          bytes = Buffer.alloc(0);
          if (frame) {
            request = decodeFdrMessage(frame);
            socket.write(encodeFdrMessage({ ConnPort: 1083 }));
          }
        });
      },
    });
    const fdr = await FdrClient.open((port, signal) => usbmux.connect(DEVICE.deviceId, port, { signal }));
    await expect(fdr.handshake()).resolves.toBe(1083);
    expect(request).toEqual({ Command: 'BeginCtrl', CtrlProtoVersion: 2 });
    fdr.close();
  });

  it('a refused FDR port is a typed, transient error the restore may ignore', async () => {
    await expect(FdrClient.open((port) => usbmux.connect(DEVICE.deviceId, port))).rejects.toMatchObject({
      kind: 'result',
      resultNumber: 3,
    });
  });
});

// keep DeviceServiceError referenced for readers: it is the type of 'closed' above
void DeviceServiceError;
