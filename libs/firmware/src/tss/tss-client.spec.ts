import { CancelledError, SigningRefusedError } from '@bench/bench-domain';
import { encodeTssFailure, encodeTssSuccess, ProtocolError, TssStatusError } from '@bench/protocols';
import { FirmwareServiceError } from '../errors';
import { HttpTssClient } from './tss-client';

const TICKET = Buffer.from('3009160449 4d344d020100'.replace(/ /g, ''), 'hex');

/** A fetch stand-in answering from a script: an Error is a network failure, a string a body. */
function scriptedFetch(script: (Error | string)[]): { fetch: typeof fetch; calls: RequestInit[] } {
  const calls: RequestInit[] = [];
  const fake = (async (_url: string | URL | Request, init?: RequestInit) => {
    calls.push(init ?? {});
    const next = script.shift();
    if (next === undefined) throw new Error('script exhausted');
    if (next instanceof Error) throw new TypeError('fetch failed', { cause: next });
    return new Response(next, { status: 200 });
  }) as typeof fetch;
  return { fetch: fake, calls };
}

describe('HttpTssClient', () => {
  it('POSTs the XML request with the libtatsu headers and returns the ticket', async () => {
    const { fetch, calls } = scriptedFetch([encodeTssSuccess({ ApImg4Ticket: TICKET })]);
    const client = new HttpTssClient({ url: 'http://tss.test/TSS/controller?action=2', fetch });
    const response = await client.requestTicket({ '@ApImg4Ticket': true, ApECID: 1 });
    expect(Buffer.from(response.ticket)).toEqual(TICKET);
    expect(calls).toHaveLength(1);
    expect(calls[0].method).toBe('POST');
    expect(calls[0].headers).toEqual({
      'Cache-Control': 'no-cache',
      'Content-Type': 'text/xml; charset="utf-8"',
      'User-Agent': 'InetURL/1.0',
    });
    expect(String(calls[0].body)).toContain('<key>@ApImg4Ticket</key>');
  });

  it('retries network failures and bodies without STATUS, up to its attempt budget', async () => {
    const { fetch, calls } = scriptedFetch([
      new Error('ECONNRESET'),
      '<html>busy</html>',
      encodeTssSuccess({ ApImg4Ticket: TICKET }),
    ]);
    const client = new HttpTssClient({ url: 'http://tss.test/', fetch, attempts: 3, retryDelayMs: 1 });
    await expect(client.requestTicket({})).resolves.toMatchObject({ status: 0 });
    expect(calls).toHaveLength(3);

    const failing = scriptedFetch([new Error('ECONNREFUSED'), new Error('ECONNREFUSED')]);
    const giving = new HttpTssClient({
      url: 'http://tss.test/',
      fetch: failing.fetch,
      attempts: 2,
      retryDelayMs: 1,
    });
    const failure = giving.requestTicket({});
    await expect(failure).rejects.toBeInstanceOf(FirmwareServiceError);
    await expect(failure).rejects.toThrow(
      'TSS server http://tss.test/ did not answer after 2 attempt(s): fetch failed (ECONNREFUSED)',
    );
  });

  it('never retries a parsed status: 94 is SigningRefusedError, others stay protocol errors', async () => {
    const refused = scriptedFetch([
      encodeTssFailure(94, "This device isn't eligible for the requested build."),
      'unused',
    ]);
    const client = new HttpTssClient({
      url: 'http://tss.test/',
      fetch: refused.fetch,
      attempts: 5,
      retryDelayMs: 1,
    });
    await expect(client.requestTicket({})).rejects.toBeInstanceOf(SigningRefusedError);
    expect(refused.calls).toHaveLength(1);

    const malformed = scriptedFetch([encodeTssFailure(100, 'malformed request'), 'unused']);
    const other = new HttpTssClient({
      url: 'http://tss.test/',
      fetch: malformed.fetch,
      attempts: 5,
      retryDelayMs: 1,
    });
    await expect(other.requestTicket({})).rejects.toBeInstanceOf(TssStatusError);
    expect(malformed.calls).toHaveLength(1);

    const broken = scriptedFetch(['STATUS=0&MESSAGE=SUCCESS&REQUEST_STRING=junk']);
    await expect(
      new HttpTssClient({ url: 'http://tss.test/', fetch: broken.fetch }).requestTicket({}),
    ).rejects.toBeInstanceOf(ProtocolError);
  });

  it('stops waiting between retries when cancelled', async () => {
    const { fetch } = scriptedFetch([new Error('down'), new Error('down')]);
    const client = new HttpTssClient({ url: 'http://tss.test/', fetch, attempts: 2, retryDelayMs: 60_000 });
    const controller = new AbortController();
    const pending = client.requestTicket({}, { signal: controller.signal });
    setTimeout(() => controller.abort(), 10);
    await expect(pending).rejects.toBeInstanceOf(CancelledError);
  });
});
