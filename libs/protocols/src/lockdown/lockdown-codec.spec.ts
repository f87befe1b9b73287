import { ProtocolError } from '../errors';
import {
  encodeBigEndianLengthPrefixed,
  FrameDecoder,
  framePayload,
  plistServiceFormat,
} from '../framing/frame-decoder';
import { decodePlistDict, encodePlistBinary, encodePlistXml } from '../plist/plist';
import {
  checkLockdownReply,
  decodeGetValueReply,
  decodeLockdownBattery,
  decodePairRecord,
  decodeQueryTypeReply,
  decodeStartServiceReply,
  decodeStartSessionReply,
  encodePairRecord,
  LockdownError,
  lockdownRequests,
} from './lockdown-codec';

// A QueryType request as libimobiledevice writes it: 4-byte big-endian length, then XML.
const IDEVICEINFO_QUERY_TYPE_XML =
  '<?xml version="1.0" encoding="UTF-8"?>\n' +
  '<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">\n' +
  '<plist version="1.0">\n<dict>\n\t<key>Label</key>\n\t<string>ideviceinfo</string>\n' +
  '\t<key>Request</key>\n\t<string>QueryType</string>\n</dict>\n</plist>\n';

// plistlib (FMT_BINARY) of a pair record with one-byte stand-ins for the PEM blobs.
const PYTHON_BPLIST_PAIR_RECORD = Buffer.from(
  '62706c6973743030d70102030405060708090a0b0c0d0e5f101144657669636543657274696669636174655f100f486f737443' +
    '6572746966696361746556486f737449445e486f7374507269766174654b65795f100f526f6f74436572746966696361746' +
    '55a53797374656d425549445e576946694d414341646472657373426463426863514842686b42726351425561613a62620817' +
    '2b3d445365707f8285878a8d8f0000000000000101000000000000000f00000000000000000000000000000095',
  'hex',
);

describe('lockdown codec', () => {
  it('decodes a framed QueryType request as sent by ideviceinfo', () => {
    const body = Buffer.from(IDEVICEINFO_QUERY_TYPE_XML);
    expect(body.length).toBe(0x11c);
    const wire = Buffer.concat([Buffer.from('0000011c', 'hex'), body]);
    const [frame] = new FrameDecoder(plistServiceFormat()).push(wire);
    expect(decodePlistDict(framePayload(frame))).toEqual(lockdownRequests.queryType('ideviceinfo'));
  });

  it('builds requests with Label and the optional keys only when given', () => {
    expect(lockdownRequests.getValue()).toEqual({ Label: 'bench', Request: 'GetValue' });
    expect(lockdownRequests.getValue({ domain: 'com.apple.mobile.battery' }, 'x')).toEqual({
      Label: 'x',
      Request: 'GetValue',
      Domain: 'com.apple.mobile.battery',
    });
    expect(lockdownRequests.getValue({ key: 'UniqueChipID' })).toEqual({
      Label: 'bench',
      Request: 'GetValue',
      Key: 'UniqueChipID',
    });
    expect(lockdownRequests.enterRecovery()).toEqual({ Label: 'bench', Request: 'EnterRecovery' });
    expect(lockdownRequests.startSession({ hostId: 'H', systemBuid: 'B' })).toEqual({
      Label: 'bench',
      Request: 'StartSession',
      HostID: 'H',
      SystemBUID: 'B',
    });
    expect(lockdownRequests.stopSession('S')).toEqual({
      Label: 'bench',
      Request: 'StopSession',
      SessionID: 'S',
    });
    expect(lockdownRequests.startService('com.apple.mobile.diagnostics_relay')).toEqual({
      Label: 'bench',
      Request: 'StartService',
      Service: 'com.apple.mobile.diagnostics_relay',
    });
    expect(lockdownRequests.goodbye()).toEqual({ Label: 'bench', Request: 'Goodbye' });
    // and they survive the wire
    const wire = encodeBigEndianLengthPrefixed(
      encodePlistXml(lockdownRequests.getValue({ key: 'ProductType' })),
    );
    expect(decodePlistDict(framePayload(new FrameDecoder(plistServiceFormat()).push(wire)[0]))).toEqual(
      lockdownRequests.getValue({ key: 'ProductType' }),
    );
  });

  it('turns Error strings into typed LockdownErrors', () => {
    const codes = [
      'SessionInactive',
      'InvalidHostID',
      'PasswordProtected',
      'GetProhibited',
      'MissingValue',
      'InvalidService',
    ];
    for (const code of codes) {
      let caught: unknown;
      try {
        checkLockdownReply({ Request: 'GetValue', Error: code }, 'GetValue');
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(LockdownError);
      expect((caught as LockdownError).code).toBe(code);
      expect((caught as LockdownError).known).toBe(true);
      expect((caught as LockdownError).request).toBe('GetValue');
    }
    const odd = new LockdownError('SomethingNew', 'StartService');
    expect(odd.known).toBe(false);
    expect(new LockdownError('SessionInactive', 'EnterRecovery').is('SessionInactive')).toBe(true);
  });

  it('decodes replies and notices an out-of-step stream', () => {
    expect(decodeQueryTypeReply({ Request: 'QueryType', Type: 'com.apple.mobile.lockdown' })).toBe(
      'com.apple.mobile.lockdown',
    );
    expect(decodeGetValueReply({ Request: 'GetValue', Key: 'UniqueChipID', Value: 1234 })).toBe(1234);
    expect(decodeGetValueReply({ Request: 'GetValue' })).toBeUndefined();
    expect(() => decodeGetValueReply({ Request: 'QueryType', Type: 'x' })).toThrow(ProtocolError);
    expect(
      decodeStartSessionReply({ Request: 'StartSession', SessionID: 'S1', EnableSessionSSL: true }),
    ).toEqual({
      sessionId: 'S1',
      enableSessionSsl: true,
    });
    expect(
      decodeStartServiceReply({
        Request: 'StartService',
        Service: 'svc',
        Port: 49152,
        EnableServiceSSL: true,
      }),
    ).toEqual({ service: 'svc', port: 49152, enableServiceSsl: true });
    expect(() => decodeStartServiceReply({ Request: 'StartService', Port: 70000 })).toThrow(ProtocolError);
    expect(() => decodeStartSessionReply({ Request: 'StartSession' })).toThrow(/SessionID/);
  });

  it('types the battery domain', () => {
    expect(
      decodeLockdownBattery({
        BatteryCurrentCapacity: 87,
        BatteryIsCharging: true,
        ExternalChargeCapable: true,
        ExternalConnected: true,
        FullyCharged: false,
        GasGaugeCapability: true,
        HasBattery: true,
      }),
    ).toEqual({
      currentCapacity: 87,
      isCharging: true,
      externalChargeCapable: true,
      externalConnected: true,
      fullyCharged: false,
      gasGaugeCapability: true,
      hasBattery: true,
    });
    expect(decodeLockdownBattery({})).toEqual({});
    expect(() => decodeLockdownBattery({ BatteryCurrentCapacity: 140 })).toThrow(ProtocolError);
    expect(() => decodeLockdownBattery({ BatteryIsCharging: 'yes' })).toThrow(/BatteryIsCharging/);
    expect(() => decodeLockdownBattery('nope')).toThrow(ProtocolError);
  });

  it('decodes a binary pair record written by another implementation, and round-trips ours', () => {
    const record = decodePairRecord(PYTHON_BPLIST_PAIR_RECORD);
    expect(record).toEqual({
      hostId: 'H',
      systemBuid: 'B',
      hostCertificate: new Uint8Array(Buffer.from('hc')),
      hostPrivateKey: new Uint8Array(Buffer.from('hk')),
      rootCertificate: new Uint8Array(Buffer.from('rc')),
      deviceCertificate: new Uint8Array(Buffer.from('dc')),
      rootPrivateKey: undefined,
      wifiMacAddress: 'aa:bb',
      escrowBag: undefined,
    });
    expect(decodePairRecord(encodePlistBinary(encodePairRecord(record)))).toEqual(record);
    expect(decodePairRecord(encodePlistXml(encodePairRecord(record)))).toEqual(record);
    expect(() => decodePairRecord({ HostID: 'H' })).toThrow(/SystemBUID/);
  });
});
