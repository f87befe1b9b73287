// The server's REST API and socket.io gateway against a real simulated bench (`bench start
// --simulate`): the auth matrix (issue 8 acceptance 3), validation and the one error body,
// operator actions carried out by the agent, alerts with signed webhooks, and the OpenAPI
// document.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { io, type Socket } from 'socket.io-client';
import {
  API_ROUTES,
  apiPath,
  roleAllows,
  type AlertMessage,
  type ApiRouteName,
  type ErrorBody,
  type RunView,
  type SlotDetailView,
  type SlotView,
} from '@bench/events';
import { tempDir, waitFor } from '@bench/testing';
import { startBench, type RunningBench } from '../e2e/bench-process.helper';
import { addUser, ApiClient } from '../support/api-client';
import { WebhookReceiver } from '../support/webhook-receiver';

jest.setTimeout(180_000);

const SECRET = 'a-webhook-secret-of-some-length';
const FAULTS = `
faults:
  - { slot: "1-1.2", at: { stage: verify }, fault: "status:53", times: 2 }
`;

describe('server API', () => {
  let bench: RunningBench;
  let admin: ApiClient;
  let manager: ApiClient;
  let technician: ApiClient;
  const receiver = new WebhookReceiver();
  const hooks = receiver.hooks;
  const sockets: Socket[] = [];
  const { dir, remove } = tempDir('bench-api-');

  beforeAll(async () => {
    const hookUrl = await receiver.start();
    const config = path.join(dir, 'bench.config.yaml');
    writeFileSync(config, `alerts:\n  webhooks:\n    - { url: "${hookUrl}", secret: "${SECRET}" }\n`);
    const faults = path.join(dir, 'faults.yaml');
    writeFileSync(faults, FAULTS);
    bench = await startBench(['--simulate', '2', '--speed', '50', '--faults', faults], {
      BENCH_CONFIG: config,
    });
    await addUser(bench.home, 'ada', 'admin', 'admin-password');
    await addUser(bench.home, 'max', 'manager', 'manager-password');
    await addUser(bench.home, 'tom', 'technician', 'technician-password');
    admin = await ApiClient.login(bench.serverUrl(), 'ada', 'admin-password');
    manager = await ApiClient.login(bench.serverUrl(), 'max', 'manager-password');
    technician = await ApiClient.login(bench.serverUrl(), 'tom', 'technician-password');
  });

  afterAll(async () => {
    for (const socket of sockets) socket.close();
    receiver.close();
    await bench?.stop();
    remove();
  });

  const anonymous = () => new ApiClient(bench.serverUrl());
  const slotAt = async (portPath: string) =>
    (await admin.call<SlotView[]>('slots')).body.find((slot) => slot.portPath === portPath) as SlotView;

  it('answers /health without credentials', async () => {
    const answer = await anonymous().raw('GET', '/health');
    expect(answer.status).toBe(200);
  });

  describe('auth matrix', () => {
    // Logging out would revoke the shared tokens: it has its own test below.
    const routes = Object.entries(API_ROUTES).filter(
      ([name, route]) => route.access !== 'public' && name !== 'logout',
    ) as [ApiRouteName, (typeof API_ROUTES)[ApiRouteName]][];
    const params = {
      slotId: 'no-such-slot',
      runId: 'no-such-run',
      userId: 'no-such-user',
      tokenId: 'no-such-token',
      batchId: 'no-such-batch',
    };
    const send = (client: ApiClient, name: ApiRouteName) =>
      client.raw<ErrorBody>(
        API_ROUTES[name].method,
        apiPath(name, params),
        API_ROUTES[name].method === 'GET' ? undefined : {},
      );

    it('rejects every route without credentials or with an invalid token (401, one error body)', async () => {
      const forged = new ApiClient(bench.serverUrl(), 'bench_forged-token');
      for (const [name] of routes) {
        for (const client of [anonymous(), forged]) {
          const answer = await send(client, name);
          expect({ name, status: answer.status }).toEqual({ name, status: 401 });
          expect(answer.body).toEqual({
            statusCode: 401,
            error: 'Unauthorized',
            message: expect.any(String),
          });
        }
      }
    });

    it('lets each role call exactly the routes of its role and below', async () => {
      const clients = { technician: () => technician, manager: () => manager, admin: () => admin } as const;
      for (const [role, client] of Object.entries(clients)) {
        for (const [name, route] of routes) {
          const answer = await send(client(), name);
          const allowed = roleAllows(role as keyof typeof clients, route.access);
          if (allowed) expect({ role, name, status: answer.status }).not.toEqual({ role, name, status: 403 });
          else expect({ role, name, status: answer.status }).toEqual({ role, name, status: 403 });
          expect(answer.status).not.toBe(401);
        }
      }
    });

    it('keeps technicians away from users, batches and config', async () => {
      for (const name of ['users', 'createUser', 'tokens', 'batches', 'config', 'summary'] as const) {
        const answer = await send(technician, name);
        expect(answer.status).toBe(403);
        expect(answer.body.message).toMatch(/needs the role (manager|admin); you are technician/);
      }
    });

    it('refuses a wrong password, a disabled user and a token after logout', async () => {
      expect(
        (await anonymous().call('login', {}, { username: 'tom', password: 'wrong-password' })).status,
      ).toBe(401);
      expect(
        (await anonymous().call('login', {}, { username: 'nobody', password: 'whatever1' })).status,
      ).toBe(401);
      await addUser(bench.home, 'leaver', 'technician', 'leaver-password');
      const leaver = await ApiClient.login(bench.serverUrl(), 'leaver', 'leaver-password');
      expect((await leaver.call('me')).status).toBe(200);
      const users = (await admin.call<{ id: string; username: string }[]>('users')).body;
      const id = users.find((u) => u.username === 'leaver')?.id as string;
      expect((await admin.call('updateUser', { userId: id }, { disabled: true })).status).toBe(200);
      expect((await leaver.call('me')).status).toBe(401);
      expect(
        (await anonymous().call('login', {}, { username: 'leaver', password: 'leaver-password' })).status,
      ).toBe(401);
      const again = await ApiClient.login(bench.serverUrl(), 'max', 'manager-password');
      expect((await again.call('logout', {}, {})).status).toBe(204);
      expect((await again.call('me')).status).toBe(401);
    });

    it('rejects an unauthenticated socket.io handshake and accepts a valid one', async () => {
      const attempt = (token: string | undefined) =>
        new Promise<string>((resolve) => {
          const socket = io(bench.serverUrl(), {
            path: '/socket.io',
            auth: token ? { token } : {},
            transports: ['websocket'],
            reconnection: false,
          });
          sockets.push(socket);
          socket.on('connect', () => resolve('connected'));
          socket.on('connect_error', (error) => resolve(`refused: ${error.message}`));
        });
      expect(await attempt(undefined)).toMatch(/^refused: unauthorized/);
      expect(await attempt('bench_forged')).toMatch(/^refused: unauthorized/);
      expect(await attempt(technician.token)).toBe('connected');
    });
  });

  it('rejects bad bodies with one error shape naming what was wrong', async () => {
    const slot = await slotAt('1-1.3');
    const unknown = await technician.call<ErrorBody>(
      'startRun',
      { slotId: slot.id },
      { firmware: 'latest', colour: 'red' },
    );
    expect(unknown.status).toBe(400);
    expect(unknown.body.details).toEqual(['colour: unknown field']);
    const badValue = await technician.call<ErrorBody>('startRun', { slotId: slot.id }, { behavior: 'wipe' });
    expect(badValue.status).toBe(400);
    expect(badValue.body.message).toMatch(/behavior/);
    const badJson = await technician.raw<ErrorBody>(
      'POST',
      apiPath('startRun', { slotId: slot.id }),
      '{"firmware":',
    );
    expect(badJson.status).toBe(400);
    expect(badJson.body.message).toMatch(/^invalid JSON body/);
    const weak = await admin.call<ErrorBody>(
      'createUser',
      {},
      { username: 'x', password: 'short', role: 'admin' },
    );
    expect(weak.status).toBe(400);
    expect(weak.body.details?.join(' ')).toMatch(/password/);
    const missing = await technician.call<ErrorBody>('slot', { slotId: 'no-such-slot' });
    expect(missing.body).toEqual({ statusCode: 404, error: 'Not Found', message: 'no slot no-such-slot' });
  });

  it('pauses a slot (a new run waits), resumes it (the run restores the phone)', async () => {
    await waitFor(
      async () => (await slotAt('1-1.1'))?.state === 'done' || undefined,
      90_000,
      'the phone on 1-1.1 done',
    );
    const slot = await slotAt('1-1.1');
    expect((await technician.call('pauseSlot', { slotId: slot.id }, {})).status).toBe(202);
    await waitFor(async () => (await slotAt('1-1.1')).paused || undefined, 10_000, 'the slot to show paused');
    const started = await technician.call<RunView>('startRun', { slotId: slot.id }, { firmware: 'latest' });
    expect(started.status).toBe(201);
    expect(started.body).toMatchObject({ state: 'queued', operator: 'tom', deviceEcid: slot.ecid });
    await waitFor(
      async () => (await slotAt('1-1.1')).detail?.includes('paused') || undefined,
      20_000,
      'the run to wait on the paused slot',
    );
    expect((await technician.call<RunView>('run', { runId: started.body.id })).body.attempts).toEqual([]);
    expect((await technician.call('resumeSlot', { slotId: slot.id }, {})).status).toBe(202);
    await waitFor(
      async () =>
        (await technician.call<RunView>('run', { runId: started.body.id })).body.state === 'done' ||
        undefined,
      90_000,
      'the resumed run to finish',
    );
    const detail = (await technician.call<SlotDetailView>('slot', { slotId: slot.id })).body;
    const actions = detail.events.filter((e) => e.kind === 'operator.action').map((e) => e.payload);
    expect(actions).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ action: 'pause', by: 'tom', outcome: 'done' }),
        expect.objectContaining({ action: 'resume', by: 'tom', outcome: 'done' }),
      ]),
    );
  });

  it('cancels a run that waits for a phone', async () => {
    const slot = await slotAt('1-1.5');
    const started = await technician.call<RunView>('startRun', { slotId: slot.id }, {});
    expect(started.status).toBe(201);
    expect((await technician.call('startRun', { slotId: slot.id }, {})).status).toBe(409);
    await waitFor(
      async () => (await slotAt('1-1.5')).runId === started.body.id || undefined,
      20_000,
      'the run to start',
    );
    expect(
      (await technician.call('cancelRun', { runId: started.body.id }, { reason: 'wrong shelf' })).status,
    ).toBe(202);
    await waitFor(
      async () =>
        (await technician.call<RunView>('run', { runId: started.body.id })).body.state === 'cancelled' ||
        undefined,
      30_000,
      'the run to be cancelled',
    );
    expect((await technician.call('cancelRun', { runId: started.body.id }, {})).status).toBe(409);
  });

  it('gives up on a run whose phone never comes, and asks for a human', async () => {
    const slot = await slotAt('1-1.6');
    const started = await technician.call<RunView>('startRun', { slotId: slot.id }, {});
    expect(started.status).toBe(201);
    // Ten minutes of device time at 50× is below the floor: one full 60 s wait for the phone.
    const run = await waitFor(
      async () => {
        const view = (await technician.call<RunView>('run', { runId: started.body.id })).body;
        return view.state === 'failed' ? view : undefined;
      },
      150_000,
      'the run without a phone to give up',
    );
    expect(run.failureMessage).toMatch(/has not been seen on 1-1\.6 for \d+ min: plug it back in/);
    expect((await slotAt('1-1.6')).state).toBe('attention');
  });

  it('raises an alert and a signed webhook when a phone is bricked', async () => {
    const hook = await waitFor(
      () => hooks.find((h) => (JSON.parse(h.body) as { alert: AlertMessage }).alert.portPath === '1-1.2'),
      90_000,
      'the webhook for the bricked phone',
    );
    const body = JSON.parse(hook.body) as { type: string; alert: AlertMessage };
    expect(body).toMatchObject({ type: 'alert', alert: { state: 'bricked', portPath: '1-1.2' } });
    expect(hook.headers['x-bench-signature']).toBe(WebhookReceiver.expectedSignature(hook, SECRET));
    // Once per state change: the same bricked slot does not alert again.
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    expect(hooks.filter((h) => h.body.includes('"1-1.2"'))).toHaveLength(1);
    const slot = await slotAt('1-1.2');
    expect(slot.state).toBe('bricked');
    const detail = (await technician.call<SlotDetailView>('slot', { slotId: slot.id })).body;
    // Bricked only after the confirming attempt failed the same way.
    expect(detail.run?.attempts.map((a) => a.failureClass)).toEqual(['device-hardware', 'device-hardware']);
  });

  it('describes every route in its OpenAPI document', async () => {
    const answer = await technician.call<{ paths: Record<string, Record<string, unknown>> }>('openapi');
    for (const [name, route] of Object.entries(API_ROUTES)) {
      const openApiPath = `/api${route.path.replace(/:(\w+)/g, '{$1}')}`;
      expect({
        name,
        described: Boolean(answer.body.paths[openApiPath]?.[route.method.toLowerCase()]),
      }).toEqual({
        name,
        described: true,
      });
    }
  });
});
