// A small client for the server's REST API as the tests use it: users made with the real CLI,
// logins through the real endpoint, bearer tokens on every call.
import { API_ROUTES, apiPath, type ApiRouteName, type LoginResponse } from '@bench/events';
import { runBench } from '@bench/testing';

export interface ApiAnswer<T = unknown> {
  status: number;
  body: T;
}

export async function addUser(home: string, username: string, role: string, password: string): Promise<void> {
  const result = await runBench(
    ['user', 'add', '--username', username, '--role', role, '--password', password],
    { env: { PATH: process.env.PATH, HOME: process.env.HOME, BENCH_HOME: home } },
  );
  if (result.code !== 0) throw new Error(`bench user add ${username}: ${result.stderr}`);
}

export class ApiClient {
  constructor(
    readonly baseUrl: string,
    public token?: string,
  ) {}

  static async login(baseUrl: string, username: string, password: string): Promise<ApiClient> {
    const client = new ApiClient(baseUrl);
    const answer = await client.call<LoginResponse>('login', {}, { username, password });
    if (answer.status !== 200)
      throw new Error(`login ${username}: ${answer.status} ${JSON.stringify(answer.body)}`);
    client.token = answer.body.token;
    return client;
  }

  async call<T = unknown>(
    name: ApiRouteName,
    params: Record<string, string> = {},
    body?: unknown,
    query = '',
  ): Promise<ApiAnswer<T>> {
    return this.raw<T>(API_ROUTES[name].method, `${apiPath(name, params)}${query}`, body);
  }

  async raw<T = unknown>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
    const response = await fetch(`${this.baseUrl}${path}`, {
      method,
      headers: {
        ...(this.token ? { authorization: `Bearer ${this.token}` } : {}),
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...headers,
      },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      // not JSON: keep the text
    }
    return { status: response.status, body: parsed as T };
  }
}
