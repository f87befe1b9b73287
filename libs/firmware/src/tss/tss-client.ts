// Asking a TSS server to sign (restore-protocol §5.1). The URL is configuration (Apple's
// gs.apple.com in production, the simulator's server in tests). Only a failure to get an answer is
// retried (network error, timeout, a body without STATUS=): a parsed status, even an error, is
// final, as in libtatsu. A refusal (94/69) becomes bench-domain's SigningRefusedError.
import { CancelledError, SigningRefusedError } from '@bench/bench-domain';
import {
  ProtocolError,
  TssRefusedError,
  encodePlistXml,
  parseTssResponse,
  type PlistDict,
  type TssResponse,
} from '@bench/protocols';
import { FirmwareServiceError } from '../errors';

export interface TssClient {
  /** Sends a request built by `buildTssRequest` and returns the parsed, successful response. */
  requestTicket(request: PlistDict, options?: { signal?: AbortSignal }): Promise<TssResponse>;
}

export interface HttpTssClientOptions {
  url: string;
  /** Total tries for one request (libtatsu: 15). */
  attempts?: number;
  /** Pause between tries after a network failure (libtatsu: 2 s). */
  retryDelayMs?: number;
  /** Per-try timeout. */
  timeoutMs?: number;
  fetch?: typeof fetch;
}

/** TSS headers as libtatsu sends them. `Expect:` is left out: fetch never sends 100-continue. */
const TSS_HEADERS = {
  'Cache-Control': 'no-cache',
  'Content-Type': 'text/xml; charset="utf-8"',
  'User-Agent': 'InetURL/1.0',
};

export class HttpTssClient implements TssClient {
  private readonly attempts: number;
  private readonly retryDelayMs: number;
  private readonly timeoutMs: number;
  private readonly fetchImpl: typeof fetch;

  constructor(private readonly options: HttpTssClientOptions) {
    this.attempts = Math.max(1, options.attempts ?? 15);
    this.retryDelayMs = options.retryDelayMs ?? 2000;
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.fetchImpl = options.fetch ?? fetch;
  }

  async requestTicket(request: PlistDict, options: { signal?: AbortSignal } = {}): Promise<TssResponse> {
    const body = encodePlistXml(request);
    let lastFailure: unknown;
    for (let attempt = 1; attempt <= this.attempts; attempt++) {
      throwIfAborted(options.signal);
      let text: string;
      try {
        text = await this.post(body, options.signal);
      } catch (error) {
        throwIfAborted(options.signal);
        lastFailure = error;
        await pause(attempt < this.attempts ? this.retryDelayMs : 0, options.signal);
        continue;
      }
      if (!/^STATUS=\d/.test(text)) {
        lastFailure = new ProtocolError(
          `no STATUS in the answer: ${JSON.stringify(text.slice(0, 80))}`,
          'tss response',
        );
        await pause(attempt < this.attempts ? this.retryDelayMs : 0, options.signal);
        continue;
      }
      return this.interpret(text);
    }
    throw new FirmwareServiceError(
      `TSS server ${this.options.url} did not answer after ${this.attempts} attempt(s): ${describe(lastFailure)}`,
      { detail: this.options.url },
      { cause: lastFailure },
    );
  }

  private async post(body: Buffer, signal: AbortSignal | undefined): Promise<string> {
    const timeout = AbortSignal.timeout(this.timeoutMs);
    const response = await this.fetchImpl(this.options.url, {
      method: 'POST',
      headers: TSS_HEADERS,
      body,
      signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
    });
    return response.text();
  }

  private interpret(text: string): TssResponse {
    try {
      return parseTssResponse(text);
    } catch (error) {
      if (error instanceof TssRefusedError) {
        throw new SigningRefusedError(
          `TSS refused to sign (status ${error.status}): ${error.serverMessage}`,
          { statusCode: error.status, detail: error.serverMessage },
          { cause: error },
        );
      }
      // Other statuses (malformed request, server error) and malformed success bodies stay as the
      // codec's ProtocolErrors: a parsed answer is never retried.
      throw error;
    }
  }
}

function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new CancelledError('TSS request cancelled', {}, { cause: signal.reason });
}

function pause(ms: number, signal: AbortSignal | undefined): Promise<void> {
  if (ms <= 0) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(done, ms);
    function done(): void {
      signal?.removeEventListener('abort', aborted);
      resolve();
    }
    function aborted(): void {
      clearTimeout(timer);
      reject(new CancelledError('TSS request cancelled', {}, { cause: signal?.reason }));
    }
    signal?.addEventListener('abort', aborted, { once: true });
  });
}

function describe(error: unknown): string {
  if (error instanceof Error) {
    const cause = (error as Error & { cause?: unknown }).cause;
    return cause instanceof Error ? `${error.message} (${cause.message})` : error.message;
  }
  return String(error);
}
