// The TSS server's answer (restore-protocol §5.1, §5.3): form-like text
// `STATUS=<n>&MESSAGE=<text>[&REQUEST_STRING=<xml plist>]`. Status 0 carries the plist with the
// ApImg4Ticket; 94 and 69 mean the build is not signed for this device.
import { ProtocolError } from '../errors';
import { decodePlistDict, encodePlistXml, isPlistDict, type PlistDict } from '../plist/plist';

export const TSS_REFUSED_STATUSES: ReadonlySet<number> = new Set([94, 69]);
export const TSS_NOT_ELIGIBLE_MESSAGE = "This device isn't eligible for the requested build.";
/** A signed response is a few KB; this bounds what we parse from a misbehaving server. */
export const MAX_TSS_RESPONSE_BYTES = 16 * 1024 * 1024;

export interface TssResponse {
  status: 0;
  message: string;
  /** The DER IM4M to stitch into every personalized image (and the RootTicket). */
  ticket: Uint8Array;
  /** Per-component entries of the response (`<Component>-TBM` dictionaries and the like). */
  components: Record<string, PlistDict>;
  /** The whole response plist: saved as the SHSH blob. */
  plist: PlistDict;
}

/** Any non-success TSS status. */
export class TssStatusError extends ProtocolError {
  constructor(
    readonly status: number,
    readonly serverMessage: string,
  ) {
    super(`TSS server answered status ${status}: ${serverMessage || '(no message)'}`, 'tss status');
  }
}

/**
 * Status 94/69: the build is not signed for this device. Carries the `signing-refused` failure
 * class so a caller outside protocols can map it to bench-domain's SigningRefusedError.
 */
export class TssRefusedError extends TssStatusError {
  readonly failureClass = 'signing-refused' as const;
}

export function parseTssResponse(body: string | Uint8Array): TssResponse {
  const size = typeof body === 'string' ? Buffer.byteLength(body) : body.length;
  if (size > MAX_TSS_RESPONSE_BYTES) {
    throw new ProtocolError(
      `TSS response of ${size} bytes exceeds the ${MAX_TSS_RESPONSE_BYTES}-byte limit`,
      'tss response',
    );
  }
  const text =
    typeof body === 'string' ? body : Buffer.from(body.buffer, body.byteOffset, body.length).toString('utf8');
  const head = /^STATUS=(\d{1,9})&MESSAGE=/.exec(text);
  if (!head) throw new ProtocolError('TSS response does not start with STATUS=<n>&MESSAGE=', 'tss response');
  const status = Number(head[1]);
  const rest = text.slice(head[0].length);
  const marker = rest.indexOf('&REQUEST_STRING=');
  const message = (marker === -1 ? rest : rest.slice(0, marker)).trim();
  if (status !== 0) {
    throw TSS_REFUSED_STATUSES.has(status)
      ? new TssRefusedError(status, message)
      : new TssStatusError(status, message);
  }
  if (marker === -1) throw new ProtocolError('TSS success response has no REQUEST_STRING', 'tss response');
  const plistText = rest.slice(marker + '&REQUEST_STRING='.length);
  if (!plistText.trimStart().startsWith('<?xml')) {
    throw new ProtocolError('TSS REQUEST_STRING is not an XML plist', 'tss response');
  }
  const plist = decodePlistDict(Buffer.from(plistText, 'utf8'));
  const ticket = plist.ApImg4Ticket;
  if (!(ticket instanceof Uint8Array) || ticket.length === 0) {
    throw new ProtocolError('TSS response lacks ApImg4Ticket data', 'ApImg4Ticket');
  }
  const components: Record<string, PlistDict> = {};
  for (const [key, value] of Object.entries(plist)) if (isPlistDict(value)) components[key] = value;
  return { status: 0, message, ticket, components, plist };
}

/** The server side: a success body carrying `plist` (the simulator's TSS server uses it). */
export function encodeTssSuccess(plist: PlistDict): string {
  return `STATUS=0&MESSAGE=SUCCESS&REQUEST_STRING=${encodePlistXml(plist).toString('utf8')}`;
}

export function encodeTssFailure(status: number, message: string): string {
  return `STATUS=${status}&MESSAGE=${message}`;
}
