// The simulator's TSS signing server (restore-protocol §5, "What to simulate" 7): accepts the
// request plist a real client POSTs, answers `STATUS=0&MESSAGE=SUCCESS&REQUEST_STRING=<plist with
// ApImg4Ticket>` with a simulated ticket bound to the request's ECID and ApNonce and listing the
// requested digests, or `STATUS=94` for builds it is told to refuse (a configured set, or a
// callback the fault engine answers per device: the server only sees ECIDs).
import { EventEmitter } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  TSS_NOT_ELIGIBLE_MESSAGE,
  decodePlistDict,
  encodeTssFailure,
  encodeTssSuccess,
  isPlistDict,
  optionalBigInteger,
  optionalBoolean,
  optionalData,
  optionalInteger,
  type PlistDict,
} from '@bench/protocols';
import { buildOfOsLongVersion } from '../ipsw/build-numbers';
import { issueSimTicket, type SimTicketComponent } from '../personalization/sim-ticket';

export interface SimTssServerOptions {
  /** The simulator's signing key (the simulated phones verify with the same key). */
  key: Uint8Array;
  /** Builds (e.g. "22G100") refused for every device. */
  refusedBuilds?: Iterable<string>;
  /** Per-device refusal, e.g. `(ecid) => faults.active(phoneByEcid(ecid), 'unsigned-build')`. */
  refuses?: (ecid: bigint, build: string | undefined) => boolean;
  /** UniqueBuildID (hex) → build, for manifests whose identities lack `Ap,OSLongVersion`. */
  knownBuilds?: ReadonlyMap<string, string>;
  host?: string;
}

export interface TssRequestRecord {
  ecid?: bigint;
  build?: string;
  status: number;
}

/** Largest request body accepted: real requests are tens of KB. */
const MAX_REQUEST_BYTES = 4 * 1024 * 1024;

export class SimTssServer extends EventEmitter<{ request: [TssRequestRecord] }> {
  private server?: Server;
  private readonly refusedBuilds: Set<string>;
  private readonly knownBuilds: Map<string, string>;
  readonly stats = { requests: 0, signed: 0, refused: 0, malformed: 0 };

  constructor(private readonly options: SimTssServerOptions) {
    super();
    this.refusedBuilds = new Set(options.refusedBuilds ?? []);
    this.knownBuilds = new Map(options.knownBuilds ?? []);
  }

  /** Starts listening (port 0 = any free port) and returns the URL to configure as the TSS URL. */
  async listen(port = 0): Promise<string> {
    const server = createServer((request, response) => void this.handle(request, response));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, this.options.host ?? '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    return this.url;
  }

  get url(): string {
    const address = this.server?.address() as AddressInfo | null | undefined;
    if (!address) throw new Error('the TSS server is not listening');
    return `http://${this.options.host ?? '127.0.0.1'}:${address.port}/TSS/controller?action=2`;
  }

  refuseBuild(build: string): void {
    this.refusedBuilds.add(build);
  }

  allowBuild(build: string): void {
    this.refusedBuilds.delete(build);
  }

  registerBuild(uniqueBuildId: Uint8Array, build: string): void {
    this.knownBuilds.set(Buffer.from(uniqueBuildId).toString('hex'), build);
  }

  async close(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    this.stats.requests++;
    if (request.method !== 'POST') {
      response.writeHead(405, { allow: 'POST' }).end();
      return;
    }
    let body: Buffer;
    try {
      body = await readBody(request);
    } catch (error) {
      this.answer(response, 100, `malformed request: ${(error as Error).message}`, { status: 100 });
      return;
    }
    const reply = this.sign(body);
    this.answer(response, reply.status, reply.message, reply.record, reply.ticket);
  }

  /** Decides and builds the answer for one request body. */
  sign(body: Uint8Array): { status: number; message: string; record: TssRequestRecord; ticket?: Buffer } {
    let request: PlistDict;
    try {
      request = decodePlistDict(body, { maxBytes: MAX_REQUEST_BYTES });
    } catch (error) {
      return {
        status: 100,
        message: `malformed request: ${(error as Error).message}`,
        record: { status: 100 },
      };
    }
    try {
      const ecid = optionalBigInteger(request, 'ApECID');
      const apNonce = optionalData(request, 'ApNonce');
      if (ecid === undefined || apNonce === undefined || request['@ApImg4Ticket'] !== true) {
        return {
          status: 100,
          message: 'malformed request: ApECID, ApNonce and @ApImg4Ticket are required',
          record: { ecid, status: 100 },
        };
      }
      const build = this.buildOf(request);
      if ((build !== undefined && this.refusedBuilds.has(build)) || this.options.refuses?.(ecid, build)) {
        return { status: 94, message: TSS_NOT_ELIGIBLE_MESSAGE, record: { ecid, build, status: 94 } };
      }
      const ticket = issueSimTicket(
        {
          ecid,
          apNonce,
          sepNonce: optionalData(request, 'SepNonce'),
          chipId: optionalInteger(request, 'ApChipID') ?? 0,
          boardId: optionalInteger(request, 'ApBoardID') ?? 0,
          securityDomain: optionalInteger(request, 'ApSecurityDomain') ?? 1,
          productionMode: optionalBoolean(request, 'ApProductionMode') ?? true,
          securityMode: optionalBoolean(request, 'ApSecurityMode') ?? true,
          components: requestedComponents(request),
        },
        this.options.key,
      );
      return { status: 0, message: 'SUCCESS', record: { ecid, build, status: 0 }, ticket };
    } catch (error) {
      return {
        status: 100,
        message: `malformed request: ${(error as Error).message}`,
        record: { status: 100 },
      };
    }
  }

  private buildOf(request: PlistDict): string | undefined {
    const ubid = request.UniqueBuildID;
    const known =
      ubid instanceof Uint8Array ? this.knownBuilds.get(Buffer.from(ubid).toString('hex')) : undefined;
    if (known) return known;
    const longVersion = request['Ap,OSLongVersion'];
    return typeof longVersion === 'string' ? buildOfOsLongVersion(longVersion) : undefined;
  }

  private answer(
    response: ServerResponse,
    status: number,
    message: string,
    record: TssRequestRecord,
    ticket?: Buffer,
  ): void {
    if (status === 0) this.stats.signed++;
    else if (status === 94) this.stats.refused++;
    else this.stats.malformed++;
    this.emit('request', record);
    const text =
      status === 0 && ticket ? encodeTssSuccess({ ApImg4Ticket: ticket }) : encodeTssFailure(status, message);
    response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(text);
  }
}

/** Component entries of a request: every dictionary carrying a Digest. */
function requestedComponents(request: PlistDict): Record<string, SimTicketComponent> {
  const components: Record<string, SimTicketComponent> = {};
  for (const [name, entry] of Object.entries(request)) {
    if (!isPlistDict(entry) || !(entry.Digest instanceof Uint8Array)) continue;
    components[name] = {
      digest: entry.Digest,
      epro: typeof entry.EPRO === 'boolean' ? entry.EPRO : undefined,
      esec: typeof entry.ESEC === 'boolean' ? entry.ESEC : undefined,
    };
  }
  return components;
}

function readBody(request: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_REQUEST_BYTES) {
        reject(new Error(`request larger than ${MAX_REQUEST_BYTES} bytes`));
        request.destroy();
        return;
      }
      chunks.push(chunk);
    });
    request.once('end', () => resolve(Buffer.concat(chunks)));
    request.once('error', reject);
  });
}
