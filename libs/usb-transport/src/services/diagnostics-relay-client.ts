// com.apple.mobile.diagnostics_relay over a started service connection: battery readings from
// the IORegistry (restore-protocol.md §9.2).
import type { Duplex } from 'node:stream';
import {
  checkDiagnosticsReply,
  decodeBatteryRegistry,
  decodeIoRegistryReply,
  DIAGNOSTICS_RELAY_SERVICE,
  DiagnosticsRelayError,
  diagnosticsRequests,
  type DiagnosticsBattery,
  type IoRegistryQuery,
  type PairRecord,
  type PlistDict,
} from '@bench/protocols';
import type { LockdownClient } from './lockdown-client';
import { startPairRecordTls, type PairRecordTlsOptions } from './pair-record-tls';
import { PlistServiceClient, type PlistServiceClientOptions } from './plist-service-client';

export class DiagnosticsRelayClient {
  readonly service: PlistServiceClient;

  constructor(channel: Duplex, options: PlistServiceClientOptions = {}) {
    this.service = new PlistServiceClient(channel, { service: 'diagnostics relay', ...options });
  }

  /**
   * StartService over a paired lockdown session, connect to the port it names (through
   * `connect`, usually `port => usbmux.connect(deviceId, port)`), and TLS when the device asks.
   */
  static async start(
    lockdown: LockdownClient,
    connect: (port: number) => Promise<Duplex>,
    record: PairRecord,
    options: PlistServiceClientOptions & PairRecordTlsOptions = {},
  ): Promise<DiagnosticsRelayClient> {
    const { port, enableServiceSsl } = await lockdown.startService(DIAGNOSTICS_RELAY_SERVICE);
    const client = new DiagnosticsRelayClient(await connect(port), options);
    try {
      if (enableServiceSsl) await startPairRecordTls(client.service, record, options);
    } catch (error) {
      client.close();
      throw error;
    }
    return client;
  }

  async ioregistry(query: IoRegistryQuery): Promise<PlistDict> {
    return decodeIoRegistryReply(await this.service.request(diagnosticsRequests.ioregistry(query)));
  }

  /**
   * By class IOPMPowerSource first (the battery's entry name differs on newer iPhones), then by
   * the name AppleSmartBattery when the class query finds nothing.
   */
  async battery(): Promise<DiagnosticsBattery> {
    let props: PlistDict;
    try {
      props = await this.ioregistry({ entryClass: 'IOPMPowerSource' });
    } catch (error) {
      if (!(error instanceof DiagnosticsRelayError)) throw error;
      props = await this.ioregistry({ entryName: 'AppleSmartBattery' });
    }
    return decodeBatteryRegistry(props);
  }

  async goodbye(): Promise<void> {
    if (this.service.closed) return;
    checkDiagnosticsReply(await this.service.request(diagnosticsRequests.goodbye()));
  }

  close(): void {
    this.service.close();
  }
}
