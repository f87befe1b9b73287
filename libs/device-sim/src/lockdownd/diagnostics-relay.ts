// com.apple.mobile.diagnostics_relay: started through a paired lockdown session, spoken over TLS
// with the same pair record, plist requests with a `Status` in every reply (restore-protocol.md
// §9.2). The battery answers IORegistry queries by entry name (AppleSmartBattery) or class
// (IOPMPowerSource) with the phone's live battery values.
import type { Duplex } from 'node:stream';
import {
  DIAGNOSTICS_RELAY_SERVICE,
  POWER_SOURCE_ENTRY_CLASS,
  SMART_BATTERY_ENTRY_NAME,
  optionalString,
  type PlistDict,
} from '@bench/protocols';
import type { SimPhone } from '../phone/sim-phone';
import type { TlsServerOptions } from '../pairing/tls-upgrade';
import { PlistServiceConnection } from '../usbmux/plist-service-connection';

/** Design capacity in mAh per product (Apple's published figures); others get a typical value. */
const DESIGN_CAPACITY_MAH: Readonly<Record<string, number>> = {
  'iPhone9,1': 1960,
  'iPhone10,1': 1821,
  'iPhone13,2': 2815,
  'iPhone15,4': 3349,
};

const BATTERY_ENTRY_NAMES = new Set([SMART_BATTERY_ENTRY_NAME, 'AppleARMPMUCharger']);
const BATTERY_ENTRY_CLASSES = new Set([POWER_SOURCE_ENTRY_CLASS, SMART_BATTERY_ENTRY_NAME]);

export function smartBatteryProperties(phone: SimPhone): PlistDict {
  const { battery } = phone;
  const design = DESIGN_CAPACITY_MAH[phone.identity.model.productType] ?? 2000;
  // Lithium cells lose roughly a fifth of their capacity over 1000 cycles.
  const health = Math.max(0.6, 1 - battery.cycleCount * 0.0002);
  const rawMax = Math.round(design * health);
  const amperage = battery.charging ? 1_100 : battery.externalConnected ? 0 : -240;
  const properties: PlistDict = {
    AdapterInfo: battery.externalConnected ? 0x1000 : 0,
    Amperage: amperage,
    AppleRawCurrentCapacity: Math.round((rawMax * battery.level) / 100),
    AppleRawMaxCapacity: rawMax,
    AtCriticalLevel: battery.level <= 5,
    BatteryInstalled: true,
    BootVoltage: battery.voltageMv - 40,
    CurrentCapacity: Math.round(battery.level),
    CycleCount: battery.cycleCount,
    DesignCapacity: design,
    ExternalChargeCapable: battery.externalConnected,
    ExternalConnected: battery.externalConnected,
    FullyCharged: battery.level >= 100,
    InstantAmperage: amperage,
    IsCharging: battery.charging,
    MaxCapacity: 100,
    NominalChargeCapacity: rawMax,
    Temperature: battery.temperatureCentiC,
    Voltage: battery.voltageMv,
  };
  if (battery.externalConnected) {
    properties.AdapterDetails = { Watts: 5, Voltage: 5000, Current: 1000, Description: 'usb host' };
  }
  return properties;
}

function matchesBattery(request: PlistDict): boolean {
  const name = optionalString(request, 'EntryName') || undefined;
  const entryClass = optionalString(request, 'EntryClass') || undefined;
  if (!name && !entryClass) return false;
  return (!name || BATTERY_ENTRY_NAMES.has(name)) && (!entryClass || BATTERY_ENTRY_CLASSES.has(entryClass));
}

export interface DiagnosticsRelayHooks {
  /** `Restart`: the phone reboots into iOS. */
  restart(): void;
  /** `Shutdown`: the phone powers off. */
  shutdown(): void;
}

/** Serves one diagnostics relay connection: TLS first (EnableServiceSSL), then requests. */
export function serveDiagnosticsRelay(
  channel: Duplex,
  phone: SimPhone,
  tls: TlsServerOptions,
  hooks: DiagnosticsRelayHooks,
): PlistServiceConnection {
  const connection = new PlistServiceConnection(channel, { name: DIAGNOSTICS_RELAY_SERVICE });
  connection.startTls(tls).then(
    () => connection.start((request) => handle(connection, phone, request, hooks)),
    (error: Error) => connection.fail(error),
  );
  return connection;
}

async function handle(
  connection: PlistServiceConnection,
  phone: SimPhone,
  request: PlistDict,
  hooks: DiagnosticsRelayHooks,
): Promise<void> {
  const name = optionalString(request, 'Request');
  switch (name) {
    case 'IORegistry':
      if (!matchesBattery(request)) return connection.send({ Status: 'Failure' });
      return connection.send({
        Status: 'Success',
        Diagnostics: { IORegistry: smartBatteryProperties(phone) },
      });
    case 'GasGauge':
    case 'All':
      return connection.send({ Status: 'Success', Diagnostics: { GasGauge: gasGauge(phone) } });
    case 'MobileGestalt':
      return connection.send({
        Status: 'Success',
        Diagnostics: { MobileGestalt: { Status: 'MobileGestaltDeprecated' } },
      });
    case 'Sleep':
      return connection.send({ Status: 'Success' });
    case 'Restart':
      await connection.send({ Status: 'Success' });
      return hooks.restart();
    case 'Shutdown':
      await connection.send({ Status: 'Success' });
      return hooks.shutdown();
    case 'Goodbye':
      await connection.send({ Status: 'Success' });
      return connection.close();
    default:
      return connection.send({ Status: 'UnknownRequest' });
  }
}

function gasGauge(phone: SimPhone): PlistDict {
  const battery = smartBatteryProperties(phone);
  return {
    CycleCount: battery.CycleCount,
    DesignCapacity: battery.DesignCapacity,
    FullChargeCapacity: battery.AppleRawMaxCapacity,
    Status: 'Success',
  };
}
