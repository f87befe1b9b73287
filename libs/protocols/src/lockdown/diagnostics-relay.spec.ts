import { ProtocolError } from '../errors';
import { decodePlistDict } from '../plist/plist';
import {
  decodeBatteryRegistry,
  decodeIoRegistryReply,
  DiagnosticsRelayError,
  diagnosticsRequests,
} from './diagnostics-relay';

// The shape idevicediagnostics prints for `ioregentry AppleSmartBattery` (values made up).
const BATTERY_REPLY_XML =
  '<?xml version="1.0" encoding="UTF-8"?><plist version="1.0"><dict>' +
  '<key>Diagnostics</key><dict><key>IORegistry</key><dict>' +
  '<key>Voltage</key><integer>4213</integer>' +
  '<key>InstantAmperage</key><integer>18446744073709551000</integer>' +
  '<key>Amperage</key><integer>-512</integer>' +
  '<key>Temperature</key><integer>3024</integer>' +
  '<key>CycleCount</key><integer>311</integer>' +
  '<key>CurrentCapacity</key><integer>87</integer><key>MaxCapacity</key><integer>100</integer>' +
  '<key>DesignCapacity</key><integer>2716</integer>' +
  '<key>AppleRawCurrentCapacity</key><integer>2101</integer>' +
  '<key>AppleRawMaxCapacity</key><integer>2420</integer>' +
  '<key>NominalChargeCapacity</key><integer>2455</integer>' +
  '<key>IsCharging</key><true/><key>ExternalConnected</key><true/>' +
  '<key>ExternalChargeCapable</key><true/><key>FullyCharged</key><false/>' +
  '<key>BatteryInstalled</key><true/>' +
  '</dict></dict><key>Status</key><string>Success</string></dict></plist>';

describe('diagnostics relay codec', () => {
  it('builds IORegistry queries by entry name or class', () => {
    expect(diagnosticsRequests.batteryByName()).toEqual({
      Request: 'IORegistry',
      EntryName: 'AppleSmartBattery',
    });
    expect(diagnosticsRequests.batteryByClass()).toEqual({
      Request: 'IORegistry',
      EntryClass: 'IOPMPowerSource',
    });
    expect(diagnosticsRequests.ioregistry({ currentPlane: 'IOPower' })).toEqual({
      Request: 'IORegistry',
      CurrentPlane: 'IOPower',
    });
    expect(diagnosticsRequests.goodbye()).toEqual({ Request: 'Goodbye' });
  });

  it('decodes battery values into conventional units', () => {
    const battery = decodeBatteryRegistry(
      decodeIoRegistryReply(decodePlistDict(Buffer.from(BATTERY_REPLY_XML))),
    );
    expect(battery).toEqual({
      voltageMv: 4213,
      // unsigned two's complement in the registry; the XML double loses the low bits (≈ -616)
      instantAmperageMa: expect.any(Number),
      amperageMa: -512,
      temperatureC: 30.24,
      cycleCount: 311,
      currentCapacity: 87,
      maxCapacity: 100,
      designCapacity: 2716,
      rawCurrentCapacityMah: 2101,
      rawMaxCapacityMah: 2420,
      nominalChargeCapacityMah: 2455,
      isCharging: true,
      externalConnected: true,
      externalChargeCapable: true,
      fullyCharged: false,
      batteryInstalled: true,
    });
    expect(battery.instantAmperageMa).toBeLessThanOrEqual(0);
    expect(battery.instantAmperageMa).toBeGreaterThan(-5000);
    expect(decodeBatteryRegistry({ InstantAmperage: 2n ** 64n - 616n }).instantAmperageMa).toBe(-616);
    expect(decodeBatteryRegistry({ InstantAmperage: -616 }).instantAmperageMa).toBe(-616);
    expect(decodeBatteryRegistry({})).toEqual(expect.objectContaining({ voltageMv: undefined }));
    expect(() => decodeBatteryRegistry({ Voltage: 'high' })).toThrow(ProtocolError);
  });

  it('refuses failed or shapeless replies with typed errors', () => {
    expect(() => decodeIoRegistryReply({ Status: 'Failure' })).toThrow(DiagnosticsRelayError);
    expect(() => decodeIoRegistryReply({})).toThrow(/no Status/);
    expect(() => decodeIoRegistryReply({ Status: 'Success', Diagnostics: {} })).toThrow(ProtocolError);
  });
});
