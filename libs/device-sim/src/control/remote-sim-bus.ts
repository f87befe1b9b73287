// A simulated bench in another process, seen through its control API: the bench's endpoints
// (usbmuxd, TSS, the IPSW) and a UsbBus that mirrors the simulated bus from the control API's
// event stream. The mirror lists and announces enumerations, which is all a host needs for
// phones in normal and restore mode (reached over usbmuxd; the bus only says which port a
// usbmux LocationID is). It cannot open devices: DFU/recovery phones need the in-process
// simulator or the USB emulation. Benchmarks use it to keep the simulator's CPU out of the
// measured process (`BENCH_SIM_REMOTE`).
import http from 'node:http';
import readline from 'node:readline';
import {
  UsbTransportError,
  type UsbBus,
  type UsbDeviceHandle,
  type UsbDeviceInfo,
  type UsbHotplugEvent,
} from '@bench/usb-transport';
import {
  RemoteSimBenchInfoSchema,
  RemoteUsbEventSchema,
  type RemoteSimBenchInfo,
  type RemoteUsbEvent,
} from './remote-sim-types';

/** GET /bench of a running simulator's control API. */
export async function fetchRemoteSimBench(controlUrl: string): Promise<RemoteSimBenchInfo> {
  const url = new URL('/bench', controlUrl);
  let response: Response;
  try {
    response = await fetch(url);
  } catch (error) {
    throw new Error(`the simulated bench at ${controlUrl} does not answer: ${(error as Error).message}`, {
      cause: error,
    });
  }
  if (!response.ok) throw new Error(`GET ${url.href}: HTTP ${response.status}`);
  return RemoteSimBenchInfoSchema.parse(await response.json());
}

export interface RemoteSimUsbBusOptions {
  /** How long to wait between attempts to follow the event stream again after losing it. */
  retryMs?: number;
}

export class RemoteSimUsbBus implements UsbBus {
  private readonly devices = new Map<string, UsbDeviceInfo>();
  private readonly listeners = new Set<(event: UsbHotplugEvent) => void>();
  private request?: http.ClientRequest;
  private retryTimer?: NodeJS.Timeout;
  private isClosed = false;

  private constructor(
    private readonly controlUrl: string,
    private readonly retryMs: number,
  ) {}

  /** Follows the simulator's bus; resolves once the first snapshot is in. */
  static async connect(controlUrl: string, options: RemoteSimUsbBusOptions = {}): Promise<RemoteSimUsbBus> {
    const bus = new RemoteSimUsbBus(controlUrl, options.retryMs ?? 1_000);
    await bus.follow();
    return bus;
  }

  async list(): Promise<UsbDeviceInfo[]> {
    this.checkOpen('list');
    return [...this.devices.values()];
  }

  watch(listener: (event: UsbHotplugEvent) => void): () => void {
    this.checkOpen('watch');
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async open(device: UsbDeviceInfo): Promise<UsbDeviceHandle> {
    this.checkOpen('open');
    throw new UsbTransportError(
      'access',
      `open ${device.portPath}: the simulated bench runs in another process (${this.controlUrl}); its USB devices can be listed, not opened`,
    );
  }

  async close(): Promise<void> {
    this.isClosed = true;
    clearTimeout(this.retryTimer);
    this.request?.destroy();
    this.listeners.clear();
  }

  private follow(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      let settled = false;
      const fail = (error: Error) => {
        if (!settled) {
          settled = true;
          reject(error);
        } else {
          this.lost();
        }
      };
      const request = http.get(new URL('/usb/events', this.controlUrl), (response) => {
        if (response.statusCode !== 200) {
          response.resume();
          fail(
            new UsbTransportError('io', `GET /usb/events of ${this.controlUrl}: HTTP ${response.statusCode}`),
          );
          return;
        }
        const lines = readline.createInterface({ input: response, crlfDelay: Infinity });
        // A stream cut mid-way (the simulator stopped) errors the response; 'close' handles it.
        lines.on('error', () => undefined);
        response.on('error', () => undefined);
        lines.on('line', (line) => {
          let event: RemoteUsbEvent;
          try {
            event = RemoteUsbEventSchema.parse(JSON.parse(line));
          } catch (error) {
            request.destroy(error instanceof Error ? error : new Error(String(error)));
            return;
          }
          this.apply(event);
          if (event.type === 'snapshot' && !settled) {
            settled = true;
            resolve();
          }
        });
        response.once('close', () => fail(new UsbTransportError('io', 'the bus event stream ended')));
      });
      request.once('error', (error) =>
        fail(new UsbTransportError('io', `the simulated bench at ${this.controlUrl}: ${error.message}`)),
      );
      this.request = request;
    });
  }

  /** The stream broke (the simulator restarts?): everything left, and we follow again shortly. */
  private lost(): void {
    if (this.isClosed || this.retryTimer) return;
    this.apply({ type: 'snapshot', devices: [] });
    const again = () => {
      this.retryTimer = undefined;
      if (this.isClosed) return;
      this.follow().catch(() => {
        this.retryTimer = setTimeout(again, this.retryMs);
      });
    };
    this.retryTimer = setTimeout(again, this.retryMs);
  }

  private apply(event: RemoteUsbEvent): void {
    if (event.type === 'attach') {
      this.devices.set(event.device.id, event.device);
      this.emit(event);
    } else if (event.type === 'detach') {
      if (this.devices.delete(event.device.id)) this.emit(event);
    } else {
      const next = new Map(event.devices.map((device) => [device.id, device]));
      for (const [id, device] of [...this.devices]) {
        if (next.has(id)) continue;
        this.devices.delete(id);
        this.emit({ type: 'detach', device });
      }
      for (const [id, device] of next) {
        if (this.devices.has(id)) continue;
        this.devices.set(id, device);
        this.emit({ type: 'attach', device });
      }
    }
  }

  private emit(event: UsbHotplugEvent): void {
    for (const listener of [...this.listeners]) {
      try {
        listener(event);
      } catch {
        // One listener's bug must not stop the others.
      }
    }
  }

  private checkOpen(operation: string): void {
    if (this.isClosed) throw new UsbTransportError('closed', `${operation}: the bus is closed`);
  }
}
