// Acceptance (simulator #3): our own clients complete the paired lockdown flow against the
// simulator — UsbmuxClient (ListDevices, ReadBUID, Save/Read/DeletePairRecord, Listen's Paired
// event, Connect), LockdownClient (QueryType, GetValue, a StartSession with TLS from the pair
// record, the battery domain, StartService) and DiagnosticsRelayClient (IORegistry battery values),
// over TCP to the simulated usbmuxd. The host half of pairing is what `idevicepair pair` does
// (libimobiledevice's pair_record_generate, here `generatePairRecord`): certificates around the
// phone's DevicePublicKey, a `Pair` request, the EscrowBag from the reply kept in the record that
// goes to usbmuxd. The real tools validate the device side in sim-usbmux-tools.test.ts.
import type { Duplex } from 'node:stream';
import { TLSSocket } from 'node:tls';
import {
  createPhone,
  createSimUsbmuxd,
  generatePairRecord,
  pairRequestRecord,
  SeededRandom,
  SimClock,
  type SimPhone,
  type SimUsbmuxd,
} from '@bench/device-sim';
import {
  DIAGNOSTICS_RELAY_SERVICE,
  isPlistDict,
  LOCKDOWN_BATTERY_DOMAIN,
  LOCKDOWN_SERVICE_TYPE,
  LockdownError,
  type PairRecord,
  type PlistDict,
  type UsbmuxDevice,
} from '@bench/protocols';
import {
  DiagnosticsRelayClient,
  LockdownClient,
  PairRecordNotFoundError,
  readLockdownBattery,
  UsbmuxClient,
} from '@bench/usb-transport';
import { tempDir } from '@bench/testing';
import { parseEcid } from '@bench/bench-domain';
import { probeMuxDevice } from '@bench/restore-engine';

// RSA key generation (the phone's and the pair record's) is slow on a busy 2-core machine.
jest.setTimeout(90_000);

const UUID = /^[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}$/i;

describe('our lockdown clients against the simulated phone', () => {
  const clock = new SimClock(40);
  const random = new SeededRandom(20261125);
  const records = tempDir('bench-sim-lockdown-client-');
  let phone: SimPhone;
  let other: SimPhone;
  let endpoint: SimUsbmuxd;
  let usbmux: UsbmuxClient;
  let device: UsbmuxDevice;
  let record: PairRecord;

  beforeAll(async () => {
    phone = createPhone(
      { productType: 'iPhone10,1', batteryLevel: 58, productVersion: '16.7.10' },
      clock,
      random,
    );
    other = createPhone(
      { productType: 'iPhone9,1', batteryLevel: 23, productVersion: '15.8.3' },
      clock,
      random,
    );
    endpoint = createSimUsbmuxd({ pairRecordDir: records.dir });
    for (const [index, p] of [phone, other].entries()) {
      endpoint.addPhone(p);
      p.plug(`1-1.${index + 1}`);
    }
    const bound = await endpoint.listen({ tcp: { host: '127.0.0.1', port: 0 } });
    usbmux = UsbmuxClient.forAddress(bound.socketAddress);
    const devices = await usbmux.listDevices();
    expect(devices.map((d) => d.serialNumber).sort()).toEqual(
      [phone.identity.udid, other.identity.udid].sort(),
    );
    device = devices.find((d) => d.serialNumber === phone.identity.udid) as UsbmuxDevice;
  });

  afterAll(async () => {
    await endpoint.close();
    records.remove();
  });

  /** Lockdown on `phone`, closed after `use` whatever happens. */
  async function withLockdown<T>(use: (lockdown: LockdownClient) => Promise<T>): Promise<T> {
    const lockdown = await LockdownClient.open(usbmux, device.deviceId, { receiveTimeoutMs: 20_000 });
    try {
      return await use(lockdown);
    } finally {
      lockdown.close();
    }
  }

  it('ReadBUID gives the endpoint SystemBUID, and an unpaired phone has no pair record', async () => {
    const buid = await usbmux.readBuid();
    expect(buid).toMatch(UUID);
    expect(buid).toBe(endpoint.buid);
    await expect(usbmux.readPairRecord(phone.identity.udid)).rejects.toBeInstanceOf(PairRecordNotFoundError);
  });

  it('probeMuxDevice (the locator and the watcher) tells mode, ECID, model and version unpaired', async () => {
    const brief = await probeMuxDevice(usbmux, device.deviceId);
    expect(brief).toEqual({ mode: 'normal', ecid: parseEcid(phone.identity.ecid) });
    const detailed = await probeMuxDevice(usbmux, device.deviceId, { details: true });
    expect(detailed).toEqual({
      mode: 'normal',
      ecid: parseEcid(phone.identity.ecid),
      productType: 'iPhone10,1',
      productVersion: '16.7.10',
      buildVersion: phone.buildVersion,
      // lockdownd keeps the serial number from an unpaired host; the phone is still identified.
      serialNumber: undefined,
    });
    // An ECID already known from the UDID is not asked again, and not replaced.
    const known = parseEcid(other.identity.ecid);
    expect(await probeMuxDevice(usbmux, device.deviceId, { knownEcid: known })).toEqual({
      mode: 'normal',
      ecid: known,
    });
  });

  it('without a session: QueryType and public values, but the battery domain is prohibited', async () => {
    await withLockdown(async (lockdown) => {
      expect(await lockdown.queryType()).toBe(LOCKDOWN_SERVICE_TYPE);
      const chip = await lockdown.getValue(undefined, 'UniqueChipID');
      expect(typeof chip === 'number' || typeof chip === 'bigint' ? BigInt(chip) : chip).toBe(
        phone.identity.ecid,
      );
      expect(await lockdown.getValue(undefined, 'ProductType')).toBe('iPhone10,1');
      expect(await lockdown.getValue(undefined, 'ProductVersion')).toBe('16.7.10');
      const refused = await lockdown.readBattery().then(
        () => undefined,
        (error: unknown) => error,
      );
      expect(refused).toBeInstanceOf(LockdownError);
      expect((refused as LockdownError).code).toBe('GetProhibited');
      await lockdown.goodbye();
    });
  });

  it('pairs: a record around the DevicePublicKey is accepted, saved to usbmuxd and read back', async () => {
    const events = await usbmux.listen();
    try {
      const paired: string[] = [];
      phone.on('note', (kind) => kind === 'paired' && paired.push(kind));
      const escrowBag = await withLockdown(async (lockdown) => {
        const publicKey = await lockdown.getValue(undefined, 'DevicePublicKey');
        if (!(publicKey instanceof Uint8Array)) throw new Error('DevicePublicKey is not data');
        expect(Buffer.from(publicKey).toString()).toContain('-----BEGIN RSA PUBLIC KEY-----');
        record = await generatePairRecord({
          devicePublicKeyPem: publicKey,
          systemBuid: await usbmux.readBuid(),
        });
        const reply = await lockdown.service.request(pairRequest(record));
        expect(reply.Error).toBeUndefined();
        expect(reply.Request).toBe('Pair');
        if (!(reply.EscrowBag instanceof Uint8Array)) throw new Error('Pair reply without EscrowBag');
        return reply.EscrowBag;
      });
      expect(paired).toHaveLength(1);
      record = { ...record, escrowBag };

      await usbmux.savePairRecord(phone.identity.udid, record, device.deviceId);
      const back = await usbmux.readPairRecord(phone.identity.udid);
      expect(back.hostId).toBe(record.hostId);
      expect(back.systemBuid).toBe(endpoint.buid);
      for (const key of [
        'hostCertificate',
        'hostPrivateKey',
        'rootCertificate',
        'rootPrivateKey',
        'deviceCertificate',
        'escrowBag',
      ] as const) {
        expect(Buffer.from(back[key] as Uint8Array).equals(Buffer.from(record[key] as Uint8Array))).toBe(
          true,
        );
      }
      // Listen reports the pairing: the phone attached (announced on Listen), then Paired.
      const seen: string[] = [];
      for await (const event of events) {
        seen.push(event.type);
        if (event.type === 'paired') {
          expect(event.deviceId).toBe(device.deviceId);
          break;
        }
      }
      expect(seen).toContain('attached');
    } finally {
      events.close();
    }
  });

  it('refuses a Pair whose DeviceCertificate is for another key, and a session for an unknown host', async () => {
    await withLockdown(async (lockdown) => {
      const otherKey = await withOtherPhoneLockdown((l) => l.getValue(undefined, 'DevicePublicKey'));
      const wrong = await generatePairRecord({
        devicePublicKeyPem: otherKey as Uint8Array,
        systemBuid: endpoint.buid,
      });
      const reply = await lockdown.service.request(pairRequest(wrong));
      expect(reply).toMatchObject({ Request: 'Pair', Error: 'InvalidPairRecord' });
      const session = await lockdown.startSession(wrong).then(
        () => undefined,
        (error: unknown) => error,
      );
      expect(session).toBeInstanceOf(LockdownError);
      expect((session as LockdownError).code).toBe('InvalidHostID');
      expect(lockdown.sessionId).toBeUndefined();
    });
  });

  it('StartSession with the pair record turns on TLS; the battery domain reads the phone', async () => {
    phone.battery.level = 61;
    await withLockdown(async (lockdown) => {
      const session = await lockdown.startSession(record, { verifyDevice: true });
      expect(session.enableSessionSsl).toBe(true);
      expect(session.sessionId).toMatch(UUID);
      expect(lockdown.sessionId).toBe(session.sessionId);
      expect(isTls(lockdown.service.channel)).toBe(true);
      expect(await lockdown.getValue(LOCKDOWN_BATTERY_DOMAIN, 'BatteryCurrentCapacity')).toBe(61);
      expect(await lockdown.readBattery()).toMatchObject({
        currentCapacity: 61,
        isCharging: phone.battery.charging,
        externalConnected: true,
        hasBattery: true,
      });
      // The full global domain is visible in a session (it is not without one).
      const global = await lockdown.getValue();
      expect(isPlistDict(global) && global.UniqueDeviceID).toBe(phone.identity.udid);
      await lockdown.stopSession();
      expect(lockdown.sessionId).toBeUndefined();
    });
    // The one-call helper the engine uses: pair record from usbmuxd, session, battery, StopSession.
    phone.battery.level = 64;
    expect(
      await readLockdownBattery(
        usbmux,
        { deviceId: device.deviceId, udid: phone.identity.udid },
        { verifyDevice: true },
      ),
    ).toMatchObject({ currentCapacity: 64 });
  });

  it('StartService starts the diagnostics relay; its IORegistry gives voltage, current, temperature and cycles', async () => {
    phone.battery.voltageMv = 3_987;
    phone.battery.temperatureCentiC = 2_875;
    phone.battery.cycleCount = 412;
    await withLockdown(async (lockdown) => {
      await lockdown.startSession(record, { verifyDevice: true });
      const relay = await DiagnosticsRelayClient.start(
        lockdown,
        (port) => usbmux.connect(device.deviceId, port),
        record,
        { verifyDevice: true, receiveTimeoutMs: 20_000 },
      );
      try {
        expect(isTls(relay.service.channel)).toBe(true);
        const battery = await relay.battery();
        expect(battery).toMatchObject({
          voltageMv: 3_987,
          temperatureC: 28.75,
          cycleCount: 412,
          currentCapacity: 64,
          isCharging: phone.battery.charging,
          externalConnected: true,
          batteryInstalled: true,
        });
        // Plugged into a powered port: charging current in, or none once full; never discharging.
        expect(battery.instantAmperageMa).toBe(phone.battery.charging ? 1_100 : 0);
        expect(battery.amperageMa).toBe(battery.instantAmperageMa);
        await relay.goodbye();
      } finally {
        relay.close();
      }
      // A service port takes one connection: asking for another needs another StartService.
      const again = await lockdown.startService(DIAGNOSTICS_RELAY_SERVICE);
      expect(again.enableServiceSsl).toBe(true);
      await lockdown.stopSession();
    });
  });

  it('DeletePairRecord forgets the record; the other phone was never paired', async () => {
    await usbmux.deletePairRecord(phone.identity.udid);
    await expect(usbmux.readPairRecord(phone.identity.udid)).rejects.toBeInstanceOf(PairRecordNotFoundError);
    await expect(usbmux.readPairRecord(other.identity.udid)).rejects.toBeInstanceOf(PairRecordNotFoundError);
    // The phone still trusts the host (only usbmuxd forgot): a session with the record works.
    await withLockdown(async (lockdown) => {
      await lockdown.startSession(record);
      expect(await lockdown.getValue(LOCKDOWN_BATTERY_DOMAIN, 'BatteryCurrentCapacity')).toBe(64);
      await lockdown.stopSession();
    });
  });

  async function withOtherPhoneLockdown<T>(use: (lockdown: LockdownClient) => Promise<T>): Promise<T> {
    const otherDevice = (await usbmux.listDevices()).find((d) => d.serialNumber === other.identity.udid);
    if (!otherDevice) throw new Error('the other phone is not listed');
    const lockdown = await LockdownClient.open(usbmux, otherDevice.deviceId);
    try {
      return await use(lockdown);
    } finally {
      lockdown.close();
    }
  }
});

function isTls(channel: Duplex): boolean {
  return channel instanceof TLSSocket && channel.encrypted;
}

/** The `Pair` request libimobiledevice sends (lockdownd_pair: the record's public half, protocol 2). */
function pairRequest(record: PairRecord): PlistDict {
  return {
    Label: 'bench',
    Request: 'Pair',
    PairRecord: pairRequestRecord(record),
    ProtocolVersion: '2',
  };
}
