// `bench batch list|show|create|pause|resume|cancel`: batches from a terminal or a script, through
// the server's API (the server pre-fetches, checks signing and schedules; the CLI only asks).
// It signs in with BENCH_API_TOKEN, or as --user with a password from standard input or typed
// at a prompt. Exit codes: 0 done, 1 the server refused or is unreachable, 2 bad arguments.
import { createInterface } from 'node:readline';
import { loadEnv, type BenchEnv } from '@bench/config';
import {
  API_ROUTES,
  apiPath,
  type ApiRouteName,
  type BatchView,
  type ErrorBody,
  type LoginResponse,
} from '@bench/events';
import { readStdinLine } from '../read-stdin';
import { readRunningBench } from '../running-bench';
import { formatBatch, formatBatchList } from './batch-format';
import { createBatchRequest, type CreateBatchOptions } from './batch-request';

export interface ApiOptions {
  server?: string;
  user?: string;
  passwordStdin?: boolean;
  json?: boolean;
}

export interface BatchIo {
  out: NodeJS.WritableStream;
  err: NodeJS.WritableStream;
  stdin: NodeJS.ReadableStream & { isTTY?: boolean };
  now: () => Date;
}

const defaultIo = (): BatchIo => ({
  out: process.stdout,
  err: process.stderr,
  stdin: process.stdin,
  now: () => new Date(),
});

/** A refusal or failure to report: its message, and the exit code. */
class CommandFailure extends Error {
  constructor(
    message: string,
    readonly exitCode: 1 | 2,
  ) {
    super(message);
  }
}

export function batchListCommand(options: ApiOptions, io = defaultIo()): Promise<number> {
  return run(io, options, async (api) => {
    const batches = await api.call<BatchView[]>('batches');
    io.out.write(options.json ? `${JSON.stringify(batches, null, 2)}\n` : formatBatchList(batches));
  });
}

export function batchShowCommand(batchId: string, options: ApiOptions, io = defaultIo()): Promise<number> {
  return run(io, options, async (api) => print(io, options, await api.call<BatchView>('batch', { batchId })));
}

export function batchCreateCommand(
  options: ApiOptions & CreateBatchOptions,
  io = defaultIo(),
): Promise<number> {
  return run(io, options, async (api) => {
    const request = createBatchRequest(options, io.now());
    if (typeof request === 'string') throw new CommandFailure(request, 2);
    print(io, options, await api.call<BatchView>('createBatch', {}, request));
  });
}

export type BatchChange = 'pause' | 'resume' | 'cancel';
const CHANGE_ROUTES = { pause: 'pauseBatch', resume: 'resumeBatch', cancel: 'cancelBatch' } as const;

export function batchChangeCommand(
  change: BatchChange,
  batchId: string,
  options: ApiOptions & { reason?: string },
  io = defaultIo(),
): Promise<number> {
  return run(io, options, async (api) => {
    const body = change === 'cancel' && options.reason ? { reason: options.reason } : {};
    print(io, options, await api.call<BatchView>(CHANGE_ROUTES[change], { batchId }, body));
  });
}

function print(io: BatchIo, options: ApiOptions, batch: BatchView): void {
  io.out.write(options.json ? `${JSON.stringify(batch, null, 2)}\n` : formatBatch(batch));
}

async function run(
  io: BatchIo,
  options: ApiOptions,
  work: (api: ApiSession) => Promise<void>,
): Promise<number> {
  try {
    const env = loadEnv();
    const api = new ApiSession(serverUrl(env, options.server));
    await api.signIn(env, options, io);
    await work(api);
    return 0;
  } catch (error) {
    if (!(error instanceof CommandFailure)) throw error;
    io.err.write(`bench batch: ${error.message}\n`);
    return error.exitCode;
  }
}

/** --server, else BENCH_SERVER_URL, else the server a running `bench start` here reported, else the configured port. */
export function serverUrl(env: BenchEnv, option?: string): string {
  if (option !== undefined) {
    if (!/^https?:\/\/[^\s/]+\/?$/.test(option))
      throw new CommandFailure(`--server '${option}': expected http://HOST:PORT`, 2);
    return option.replace(/\/$/, '');
  }
  if (env.apiClient.serverUrl) return env.apiClient.serverUrl; // checked by loadEnv
  const port = readRunningBench(env)?.server?.port ?? env.server.port;
  return `http://127.0.0.1:${port}`;
}

class ApiSession {
  private token?: string;

  constructor(private readonly baseUrl: string) {}

  async signIn(env: BenchEnv, options: ApiOptions, io: BatchIo): Promise<void> {
    if (!options.user) {
      if (!env.apiClient.token)
        throw new CommandFailure(
          'sign in with --user NAME (the password from --password-stdin or a prompt), or set BENCH_API_TOKEN',
          2,
        );
      this.token = env.apiClient.token;
      return;
    }
    const password = await readPassword(options, io);
    const login = await this.call<LoginResponse>('login', {}, { username: options.user, password });
    this.token = login.token;
  }

  async call<T>(name: ApiRouteName, params: Record<string, string> = {}, body?: unknown): Promise<T> {
    const route = API_ROUTES[name];
    let response: Response;
    try {
      response = await fetch(`${this.baseUrl}${apiPath(name, params)}`, {
        method: route.method,
        headers: {
          ...(this.token ? { authorization: `Bearer ${this.token}` } : {}),
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(30_000),
      });
    } catch (error) {
      const cause = (error as Error & { cause?: Error }).cause?.message ?? (error as Error).message;
      throw new CommandFailure(
        `no answer from the server at ${this.baseUrl} (${cause}); is bench running?`,
        1,
      );
    }
    const text = await response.text();
    const parsed = parseJson(text);
    if (!response.ok) throw new CommandFailure(refusal(response.status, parsed, text), 1);
    return parsed as T;
  }
}

function parseJson(text: string): unknown {
  try {
    return text ? JSON.parse(text) : undefined;
  } catch {
    return undefined;
  }
}

function refusal(status: number, body: unknown, text: string): string {
  const error = body as Partial<ErrorBody> | undefined;
  const message =
    typeof error?.message === 'string' ? error.message : text.slice(0, 200) || 'no reason given';
  const details = Array.isArray(error?.details) ? error.details.map((d) => `\n  ${String(d)}`).join('') : '';
  return `the server answered ${status}: ${message}${details}`;
}

async function readPassword(options: ApiOptions, io: BatchIo): Promise<string> {
  if (options.passwordStdin) return readStdinLine(io.stdin);
  if (!io.stdin.isTTY)
    throw new CommandFailure('no terminal to ask for the password: give --password-stdin', 2);
  return prompt(`password for ${options.user}: `, io);
}

/** Asks on the terminal without echoing what is typed. */
function prompt(question: string, io: BatchIo): Promise<string> {
  io.err.write(question);
  // terminal: the TTY goes raw (it stops echoing); no output stream: readline echoes nothing either.
  const rl = createInterface({ input: io.stdin, terminal: true });
  return new Promise((resolve) =>
    rl.once('line', (line) => {
      rl.close();
      io.err.write('\n');
      resolve(line);
    }),
  );
}
