// A webhook receiver for the tests: an HTTP server on a free port that keeps every POST (headers
// and raw body) and checks a body's signature the way a shop's receiver would.
import { createHmac } from 'node:crypto';
import { createServer, type IncomingHttpHeaders } from 'node:http';

export interface ReceivedHook {
  headers: IncomingHttpHeaders;
  body: string;
}

export class WebhookReceiver {
  readonly hooks: ReceivedHook[] = [];
  private readonly server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () => {
      this.hooks.push({ headers: request.headers, body });
      response.writeHead(204).end();
    });
  });

  /** Listens on 127.0.0.1; resolves with the URL to put in bench.config.yaml. */
  start(): Promise<string> {
    return new Promise((resolve) =>
      this.server.listen(0, '127.0.0.1', () =>
        resolve(`http://127.0.0.1:${(this.server.address() as { port: number }).port}/bench`),
      ),
    );
  }

  /** The bodies received so far, parsed. */
  bodies<T>(): T[] {
    return this.hooks.map((hook) => JSON.parse(hook.body) as T);
  }

  /** What x-bench-signature must be for `hook` under `secret` (HMAC-SHA256 of `<timestamp>.<body>`). */
  static expectedSignature(hook: ReceivedHook, secret: string): string {
    const timestamp = String(hook.headers['x-bench-timestamp']);
    return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${hook.body}`).digest('hex')}`;
  }

  close(): void {
    this.server.closeAllConnections();
    this.server.close();
  }
}
