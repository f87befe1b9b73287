// What lockdownd answers to GetValue, per domain, from the phone's state. Key names and types
// follow real devices (restore-protocol.md §9.1): ECID as an integer `UniqueChipID`, nonces as
// data, HardwareModel upper case. Without a session only the "public" keys are readable: the set
// `ideviceinfo -s` shows on an unpaired phone, plus what idevicerestore reads before pairing.
import { createHash } from 'node:crypto';
import { LOCKDOWN_BATTERY_DOMAIN, type PlistDict } from '@bench/protocols';
import type { SimPhone } from '../phone/sim-phone';

export const BATTERY_DOMAIN = LOCKDOWN_BATTERY_DOMAIN;
export const DISK_USAGE_DOMAIN = 'com.apple.disk_usage';

/** Keys of the global domain readable without a session. */
export const PUBLIC_GLOBAL_KEYS: ReadonlySet<string> = new Set([
  'BasebandStatus',
  'BoardId',
  'BuildVersion',
  'CPUArchitecture',
  'ChipID',
  'DeviceClass',
  'DeviceColor',
  'DeviceName',
  'DevicePublicKey',
  'DieID',
  'HardwareModel',
  'HardwarePlatform',
  'PartitionType',
  'ProductName',
  'ProductType',
  'ProductVersion',
  'ProductionSOC',
  'ProtocolVersion',
  'SupportedDeviceFamilies',
  'TelephonyCapability',
  'UniqueChipID',
  'UniqueDeviceID',
  'WiFiAddress',
  // idevicerestore reads these session-less to build its TSS request.
  'ApNonce',
  'SEPNonce',
  'Image4Supported',
]);

/** Per-phone lockdown facts that are not identity: they change with use and with an erase. */
export interface LockdownState {
  activationState: 'Activated' | 'Unactivated';
  deviceName: string;
}

const states = new WeakMap<SimPhone, LockdownState>();

export function lockdownStateOf(phone: SimPhone): LockdownState {
  let state = states.get(phone);
  if (!state) {
    state = { activationState: 'Activated', deviceName: 'iPhone' };
    states.set(phone, state);
  }
  return state;
}

/** After an erase the phone is back at the setup assistant: unactivated, default name. */
export function eraseLockdownState(phone: SimPhone): void {
  states.set(phone, { activationState: 'Unactivated', deviceName: 'iPhone' });
}

/** A stable MAC address per phone and interface, in Apple's OUI space. */
function macAddress(phone: SimPhone, salt: string): string {
  const digest = createHash('sha256').update(`${phone.identity.ecidHex}/${salt}`).digest();
  return ['f0', '98', '9d', ...[...digest.subarray(0, 3)].map((b) => b.toString(16).padStart(2, '0'))].join(
    ':',
  );
}

export function globalDomain(phone: SimPhone, devicePublicKeyPem: string): PlistDict {
  const { identity } = phone;
  const { model } = identity;
  const state = lockdownStateOf(phone);
  return {
    ActivationState: state.activationState,
    ApNonce: phone.apNonce,
    BasebandStatus: 'BBInfoAvailable',
    BluetoothAddress: macAddress(phone, 'bluetooth'),
    BoardId: model.bdid,
    BuildVersion: phone.buildVersion,
    CPUArchitecture: model.cpid >= 0x8020 ? 'arm64e' : 'arm64',
    ChipID: model.cpid,
    DeviceClass: 'iPhone',
    DeviceColor: '1',
    DeviceName: state.deviceName,
    DevicePublicKey: Buffer.from(devicePublicKeyPem, 'utf8'),
    DieID: Number(identity.ecid & 0xffffffffffffn),
    FirmwareVersion: phone.nvram.get('build-version') ?? `iBoot-${phone.buildVersion}`,
    HardwareModel: model.hardwareModel.toUpperCase(),
    HardwarePlatform: `t${model.cpid.toString(16)}`,
    Image4Supported: true,
    PartitionType: 'GUID_partition_scheme',
    PasswordProtected: false,
    ProductName: 'iPhone OS',
    ProductType: model.productType,
    ProductVersion: phone.productVersion,
    ProductionSOC: true,
    ProtocolVersion: '2',
    SEPNonce: phone.sepNonce,
    SerialNumber: identity.serialNumber,
    SupportedDeviceFamilies: [1],
    TelephonyCapability: false,
    TimeZone: 'UTC',
    UniqueChipID: identity.ecid,
    UniqueDeviceID: identity.udid,
    WiFiAddress: macAddress(phone, 'wifi'),
  };
}

export function batteryDomain(phone: SimPhone): PlistDict {
  const { battery } = phone;
  return {
    BatteryCurrentCapacity: Math.round(battery.level),
    BatteryIsCharging: battery.charging,
    ExternalChargeCapable: battery.externalConnected,
    ExternalConnected: battery.externalConnected,
    FullyCharged: battery.level >= 100,
    GasGaugeCapability: true,
    HasBattery: true,
  };
}

export function diskUsageDomain(): PlistDict {
  const total = 64_000_000_000;
  return {
    TotalDiskCapacity: total,
    TotalSystemCapacity: 12_000_000_000,
    TotalSystemAvailable: 3_000_000_000,
    TotalDataCapacity: total - 12_000_000_000,
    TotalDataAvailable: 40_000_000_000,
    AmountDataAvailable: 40_000_000_000,
    AmountDataReserved: 200_000_000,
  };
}
