import { ApiError, createApiClient } from './client';

interface Recorded {
  url: string;
  init: RequestInit;
}

function fakeFetch(status: number, body: unknown, recorded: Recorded[] = []): typeof fetch {
  return (input, init) => {
    recorded.push({ url: String(input), init: init ?? {} });
    const text = typeof body === 'string' ? body : JSON.stringify(body);
    return Promise.resolve(new Response(body === undefined ? null : text, { status, statusText: 'Status' }));
  };
}

describe('createApiClient', () => {
  it('calls the route with the bearer token and returns the JSON body', async () => {
    const recorded: Recorded[] = [];
    const api = createApiClient({
      token: () => 'tok',
      onUnauthorized: jest.fn(),
      fetch: fakeFetch(200, { slots: [] }, recorded),
    });
    await expect(api('floor')).resolves.toEqual({ slots: [] });
    expect(recorded[0].url).toBe('/api/floor');
    expect(recorded[0].init.method).toBe('GET');
    expect(recorded[0].init.body).toBeUndefined();
    expect((recorded[0].init.headers as Record<string, string>).authorization).toBe('Bearer tok');
  });

  it('posts an empty JSON object to an action with its parameter filled in', async () => {
    const recorded: Recorded[] = [];
    const api = createApiClient({
      token: () => 't',
      onUnauthorized: jest.fn(),
      fetch: fakeFetch(201, undefined, recorded),
    });
    await api('retryRun', { params: { runId: 'run/1' } });
    expect(recorded[0]).toMatchObject({
      url: '/api/runs/run%2F1/retry',
      init: { method: 'POST', body: '{}' },
    });
  });

  it('turns an ErrorBody into an ApiError carrying its message', async () => {
    const api = createApiClient({
      token: () => 't',
      onUnauthorized: jest.fn(),
      fetch: fakeFetch(409, { statusCode: 409, error: 'Conflict', message: 'slot is restoring' }),
    });
    const failure = await api('startRun', { params: { slotId: 's' } }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(ApiError);
    expect((failure as ApiError).message).toBe('slot is restoring');
    expect((failure as ApiError).status).toBe(409);
  });

  it('makes a readable error from a body that is not an ErrorBody', async () => {
    const api = createApiClient({
      token: () => 't',
      onUnauthorized: jest.fn(),
      fetch: fakeFetch(502, '<html>bad gateway</html>'),
    });
    await expect(api('floor')).rejects.toThrow('502 Status');
  });

  it('ends the session on a 401, except for a refused login (the form shows that)', async () => {
    const onUnauthorized = jest.fn();
    const refusal = { statusCode: 401, error: 'Unauthorized', message: 'wrong username or password' };
    const api = createApiClient({ token: () => 't', onUnauthorized, fetch: fakeFetch(401, refusal) });
    await expect(api('login', { body: { username: 'u', password: 'p' } })).rejects.toThrow(
      'wrong username or password',
    );
    expect(onUnauthorized).not.toHaveBeenCalled();
    await expect(api('floor')).rejects.toThrow();
    expect(onUnauthorized).toHaveBeenCalledTimes(1);
  });

  it('sends no token to the login route and reports an unreachable server', async () => {
    const recorded: Recorded[] = [];
    const api = createApiClient({
      token: () => 'stale',
      onUnauthorized: jest.fn(),
      fetch: fakeFetch(200, {}, recorded),
    });
    await api('login', { body: { username: 'u', password: 'p' } });
    expect((recorded[0].init.headers as Record<string, string>).authorization).toBeUndefined();
    const offline = createApiClient({
      token: () => 't',
      onUnauthorized: jest.fn(),
      fetch: () => Promise.reject(new TypeError('fetch failed')),
    });
    await expect(offline('floor')).rejects.toMatchObject({ status: 0, message: 'cannot reach the server' });
  });
});
