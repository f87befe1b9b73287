// The simulator's control API (HTTP + JSON, loopback by default): list phones and ports, plug and
// unplug phones, switch port power, add phones, inject a fault now. Tests and trainers use it.
//   GET  /phones                          every phone with its mode, port, battery
//   POST /phones            {productType?, stage?, port?, batteryLevel?}   a new phone
//   POST /phones/:ecid/unplug
//   POST /phones/:ecid/plug {port}
//   POST /phones/:ecid/faults {fault: "hang" | "status:53" | …}
//   GET  /ports                           hub ports: power, over-current, phone, speed
//   POST /ports/:port/power {on}
//   GET  /bench                           endpoints (usbmuxd, TSS), the IPSW, ports, speed: what an
//                                         agent in another process needs (BENCH_SIM_REMOTE)
//   GET  /contacts                        per phone: when it was plugged, when the host first reached it
//   GET  /usb/devices                     the simulated bus's enumerations (UsbDeviceInfo)
//   GET  /usb/events                      NDJSON stream: a snapshot of the bus, then every attach/detach
//   GET  /usb/controllers                 per controller: capacity, active flows, bytes moved
//   POST /tss/unsigned      {build}       the TSS server stops signing a build (status 94) for every phone
//   POST /tss/signed        {build}       …and signs it again
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { z } from 'zod';
import type { SimBench } from '../bench/sim-bench';
import { parseFaultName } from '../faults/fault-script';
import { SIM_MODELS } from '../models';
import type { RemoteSimBenchInfo, RemoteUsbEvent } from './remote-sim-types';

const STAGES = ['off', 'secure-rom', 'iboot', 'ibss', 'ibec', 'restore-ramdisk', 'ios'] as const;
const MAX_BODY = 64 * 1024;

const NewPhone = z.strictObject({
  productType: z.enum(SIM_MODELS.map((m) => m.productType) as [string, ...string[]]).optional(),
  stage: z.enum(STAGES).optional(),
  port: z.string().optional(),
  batteryLevel: z.number().min(0).max(100).optional(),
});
const Plug = z.strictObject({ port: z.string() });
const Fault = z.strictObject({ fault: z.string(), replugAfterMs: z.number().int().min(0).optional() });
const Power = z.strictObject({ on: z.boolean() });
const Build = z.strictObject({
  build: z.string().regex(/^\d{1,3}[A-Z]\d{1,4}[a-z]?$/, 'expected a build number such as 22G100'),
});

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export class SimControlApi {
  private server?: Server;

  constructor(private readonly bench: SimBench) {}

  async listen(port = 0, host = '127.0.0.1'): Promise<string> {
    const server = createServer((request, response) => void this.handle(request, response));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve());
    });
    const address = server.address() as AddressInfo;
    return `http://${host}:${address.port}`;
  }

  async close(): Promise<void> {
    const server = this.server;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    try {
      const url = new URL(request.url ?? '/', 'http://sim');
      const parts = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
      if (request.method === 'GET' && parts.join('/') === 'usb/events') {
        return await this.streamUsbEvents(request, response);
      }
      const body = request.method === 'POST' ? await readJson(request) : undefined;
      const result = await this.route(request.method ?? 'GET', parts, body);
      send(response, 200, result);
    } catch (error) {
      const status = error instanceof HttpError ? error.status : 500;
      send(response, status, { error: (error as Error).message });
    }
  }

  /** The bus as it is, then its changes as they happen, one JSON object per line. */
  private async streamUsbEvents(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const bus = this.bench.bus;
    response.writeHead(200, { 'Content-Type': 'application/x-ndjson', 'Cache-Control': 'no-store' });
    const write = (event: RemoteUsbEvent) => response.write(`${JSON.stringify(event)}\n`);
    // Snapshot and subscription in one continuation: no bus event can fall between them.
    write({ type: 'snapshot', devices: await bus.list() });
    const unwatch = bus.watch(write);
    request.once('close', unwatch);
  }

  private async route(method: string, parts: string[], body: unknown): Promise<unknown> {
    const bench = this.bench;
    const path = parts.join('/');
    if (method === 'GET' && path === 'bench') return this.describeBench();
    if (method === 'GET' && path === 'contacts') return bench.contacts.entries();
    if (method === 'GET' && path === 'usb/devices') return bench.bus.list();
    if (method === 'GET' && path === 'usb/controllers') {
      const buses = [...new Set(bench.ports().map((p) => bench.bus.portState(p).busNumber))];
      return buses.map((bus) => bench.bus.controllerStats(bus));
    }
    if (method === 'GET' && parts.join('/') === 'phones') return bench.phones.map((p) => p.snapshot());
    if (method === 'GET' && parts.join('/') === 'ports')
      return bench.ports().map((p) => bench.bus.portState(p));
    if (method === 'POST' && parts.join('/') === 'phones') {
      const input = parse(NewPhone, body);
      if (input.port && !bench.ports().includes(input.port))
        throw new HttpError(404, `no port ${input.port}`);
      if (input.port && bench.bus.phoneAt(input.port))
        throw new HttpError(409, `port ${input.port} is taken`);
      return bench.addPhone(input).snapshot();
    }
    if (method === 'POST' && parts[0] === 'phones' && parts.length === 3) {
      const phone = bench.phoneByEcid(parts[1]);
      if (!phone) throw new HttpError(404, `no phone with ECID ${parts[1]}`);
      switch (parts[2]) {
        case 'unplug':
          bench.unplug(phone);
          return phone.snapshot();
        case 'plug': {
          const { port } = parse(Plug, body);
          if (!bench.ports().includes(port)) throw new HttpError(404, `no port ${port}`);
          if (bench.bus.phoneAt(port)) throw new HttpError(409, `port ${port} is taken`);
          if (bench.portOf(phone)) throw new HttpError(409, `the phone is already on ${bench.portOf(phone)}`);
          bench.plug(phone, port);
          return phone.snapshot();
        }
        case 'faults': {
          const input = parse(Fault, body);
          let fault;
          try {
            fault = parseFaultName(input.fault, input);
          } catch (error) {
            throw new HttpError(400, (error as Error).message);
          }
          bench.inject(phone, fault);
          return { injected: input.fault, phone: phone.snapshot() };
        }
      }
    }
    if (method === 'POST' && (path === 'tss/unsigned' || path === 'tss/signed')) {
      const { build } = parse(Build, body);
      const signed = path === 'tss/signed';
      if (signed) bench.tss.allowBuild(build);
      else bench.tss.refuseBuild(build);
      return { build, signed };
    }
    if (method === 'POST' && parts[0] === 'ports' && parts[2] === 'power' && parts.length === 3) {
      if (!bench.ports().includes(parts[1])) throw new HttpError(404, `no port ${parts[1]}`);
      const { on } = parse(Power, body);
      bench.bus.setPortPower(parts[1], on);
      return bench.bus.portState(parts[1]);
    }
    throw new HttpError(404, `no route ${method} /${parts.join('/')}`);
  }

  private async describeBench(): Promise<RemoteSimBenchInfo> {
    const { usbmuxd, tssUrl } = this.bench.started;
    return {
      speed: this.bench.clock.speed,
      usbmuxdSocketAddress: usbmuxd.socketAddress,
      tssUrl,
      ipswPath: (await this.bench.ipsw()).path,
      ports: this.bench.ports(),
    };
  }
}

function parse<T>(schema: z.ZodType<T>, body: unknown): T {
  const result = schema.safeParse(body ?? {});
  if (!result.success) {
    const issue = result.error.issues[0];
    throw new HttpError(400, `${issue.path.join('.') || 'body'}: ${issue.message}`);
  }
  return result.data;
}

async function readJson(request: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) throw new HttpError(413, `request body over ${MAX_BODY} bytes`);
    chunks.push(chunk as Buffer);
  }
  if (size === 0) return undefined;
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
  } catch {
    throw new HttpError(400, 'request body is not JSON');
  }
}

function send(response: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body, (_key, value: unknown) =>
    typeof value === 'bigint'
      ? value.toString()
      : value instanceof Uint8Array
        ? Buffer.from(value).toString('hex')
        : value,
  );
  response.writeHead(status, { 'Content-Type': 'application/json' });
  response.end(text);
}
