// The shop-floor dashboard on a simulated bench, in a real browser: log in, see every slot,
// follow one phone from restoring to done without reloading, open its drawer, read the summary,
// ride out a server restart (the page reconnects by itself and catches up), and see a phone that
// hangs shown as stuck, then retry it from its drawer.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { tempDir } from '@bench/testing';
import { startBench, type RunningBench } from './bench-process.helper';
import {
  addUser,
  freePort,
  launchBrowser,
  logIn,
  openDashboard,
  recordedTileStates,
  recordTileStates,
  screenshot,
  WALL_SCREEN,
} from './dashboard.helper';

jest.setTimeout(8 * 60_000);

const ADMIN = { username: 'admin', password: 'correct horse battery', role: 'admin' } as const;
const tile = (slotId: string) => `[data-testid="slot-tile"][data-slot-id="${slotId}"]`;

/**
 * The phone on this port hangs in `verify` (restored stops talking, the phone stays attached),
 * three times. At 100× the verify budget (15 min of device time) shrinks to the 30 s floor, so
 * each hang is `stuck` within a minute. The default policy retries a stuck attempt once before
 * the escalation ladder; the policy below starts the ladder at once: hang 1 → kick out of
 * restore mode and retry, hang 2 → power-cycle the port and retry, hang 3 → `stuck`, waiting for
 * a human. The retry the test clicks is a new run: the phone is still hung from hang 3, so its
 * first attempt is stuck again and kicked out, and the next one (no hang left) finishes.
 */
const STUCK_PORT = '1-1.3';
const stuckTile = `[data-testid="slot-tile"][data-port="${STUCK_PORT}"]`;
const FAULTS = `faults:
  - { slot: "${STUCK_PORT}", at: { stage: verify, progress: 50 }, fault: hang, times: 3 }
`;
const CONFIG = `policies:
  default:
    rules:
      stuck: { action: retry, maxAttempts: 1, backoffMs: 0 }
`;

describe('dashboard on a simulated bench of 16 phones', () => {
  let bench: RunningBench | undefined;
  let browser: Browser | undefined;
  let page: Page;
  const fixtures = tempDir('dashboard-ui-');

  afterAll(async () => {
    await browser?.close();
    await bench?.stop();
    fixtures.remove();
  });

  it('logs in, shows 16 slots and follows a restore to done live, then opens the slot drawer', async () => {
    const faultsFile = path.join(fixtures.dir, 'faults.yaml');
    const configFile = path.join(fixtures.dir, 'bench.config.yaml');
    writeFileSync(faultsFile, FAULTS);
    writeFileSync(configFile, CONFIG);
    // A fixed port: after a restart the server must come back where the page is.
    bench = await startBench(['--simulate', '16', '--speed', '100', '--seed', '1', '--faults', faultsFile], {
      BENCH_SERVER_PORT: String(await freePort()),
      BENCH_CONFIG: configFile,
    });
    await addUser(bench.home, ADMIN);
    browser = await launchBrowser();
    page = await openDashboard(browser, bench.serverUrl());

    // A refused login shows the server's message and stays on the form.
    await logIn(page, ADMIN.username, 'wrong password');
    await page.getByTestId('login-error').waitFor();
    await logIn(page, ADMIN.username, ADMIN.password);

    await page.getByTestId('floor').waitFor();
    // Page-side code goes in as strings: the test's tsconfig has no DOM types.
    await page.waitForFunction(`document.querySelectorAll('[data-testid="slot-tile"]').length === 16`);
    await page.getByTestId('connection-banner').waitFor({ state: 'detached', timeout: 30_000 });
    // Everything below must arrive over the socket: a reload would lose this marker.
    await page.evaluate('window.benchNoReload = true');
    await screenshot(page, 'floor-after-login');

    // Any phone but the one that hangs: that one is followed by the last test.
    const restoring = page
      .locator(`[data-testid="slot-tile"][data-state="restoring"]:not([data-port="${STUCK_PORT}"])`)
      .first();
    await restoring.waitFor({ timeout: 3 * 60_000 });
    const slotId = await restoring.getAttribute('data-slot-id');
    if (!slotId) throw new Error('a slot tile without data-slot-id');
    await expect(page.locator(`${tile(slotId)} [data-testid="tile-state"]`).textContent()).resolves.toBe(
      'restoring',
    );
    await screenshot(page, 'floor-restoring');

    await page.locator(`${tile(slotId)}[data-state="done"]`).waitFor({ timeout: 5 * 60_000 });
    await expect(page.locator(`${tile(slotId)} [data-testid="tile-state"]`).textContent()).resolves.toBe(
      'done',
    );
    await expect(page.evaluate('window.benchNoReload')).resolves.toBe(true);
    await screenshot(page, 'floor-done');

    await page.locator(tile(slotId)).click();
    const drawer = page.getByTestId('slot-drawer');
    await drawer.waitFor();
    await drawer.locator('[data-testid="drawer-attempts"] li.outcome-done').first().waitFor();
    await drawer.locator('[data-testid="drawer-timeline"] li').first().waitFor();
    await expect(drawer.getByTestId('drawer-sparkline').count()).resolves.toBe(1);
    await screenshot(page, 'slot-drawer');

    await page.getByTestId('drawer-close').click();
    await drawer.waitFor({ state: 'detached' });

    // An admin sees the manager's summary beside the floor.
    await page.getByTestId('summary-open').click();
    await page.locator('[data-testid="summary"] .kpi').first().waitFor();
    await screenshot(page, 'summary');
    await page.setViewportSize({ width: 1024, height: 768 });
    await screenshot(page, 'tablet-summary');
    await page.getByTestId('summary-open').click();
    await screenshot(page, 'tablet-floor');
  });

  it('shows that the server is gone and reconnects by itself when it is back', async () => {
    if (!bench) throw new Error('the first test did not start the bench');
    const serverPid = bench.state().server?.pid;
    if (!serverPid) throw new Error('no server pid in the bench state');
    // `bench start` restarts a crashed server on the same port.
    process.kill(serverPid, 'SIGKILL');
    await page.getByTestId('connection-banner').waitFor({ timeout: 15_000 });
    await screenshot(page, 'server-gone');
    await page.getByTestId('connection-banner').waitFor({ state: 'detached', timeout: 90_000 });
    await page.waitForFunction(`document.querySelectorAll('[data-testid="slot-tile"]').length === 16`);
    await expect(page.evaluate('window.benchNoReload')).resolves.toBe(true);
    await screenshot(page, 'server-back');
  });

  it('shows a phone that hangs as stuck, and a retry from its drawer restores it live', async () => {
    if (!bench) throw new Error('the first test did not start the bench');
    await page.setViewportSize(WALL_SCREEN);
    const stuck = page.locator(stuckTile);
    // Three hangs of 30 s and more: on a loaded machine the third ends a few minutes after the start.
    await page.locator(`${stuckTile}[data-state="stuck"]`).waitFor({ timeout: 5 * 60_000 });
    await expect(stuck.getByTestId('tile-state').textContent()).resolves.toBe('stuck');
    await expect(stuck.getAttribute('class')).resolves.toMatch(/\bstand-out\b/);
    await screenshot(page, 'floor-stuck');

    // From here on the page notes every state the tile shows, in order, as it renders them.
    await recordTileStates(page, stuckTile);

    await stuck.click();
    const drawer = page.getByTestId('slot-drawer');
    await drawer.waitFor();
    await expect(drawer.locator('.drawer-head .state-badge').textContent()).resolves.toBe('stuck');
    // The drawer says why: the run's attempts ended stuck (the last one with the DFU advice on the tile).
    await drawer
      .locator('[data-testid="drawer-attempts"] li.outcome-failed .failure-class', { hasText: 'stuck' })
      .first()
      .waitFor();
    await screenshot(page, 'drawer-stuck');

    const retryRoute = /^\/api\/runs\/([^/]+)\/retry$/;
    const [response] = await Promise.all([
      page.waitForResponse(
        (r) => r.request().method() === 'POST' && retryRoute.test(new URL(r.url()).pathname),
      ),
      drawer.getByTestId('action-retry').click(),
    ]);
    // The server made a new run for the phone (201), queued on the same port.
    expect(response.status()).toBe(201);
    const stuckRunId = retryRoute.exec(new URL(response.url()).pathname)?.[1];
    const retried = (await response.json()) as { id: string; state: string; portPath: string };
    expect(retried).toMatchObject({ portPath: STUCK_PORT, state: 'queued' });
    expect(retried.id).not.toBe(stuckRunId);
    await drawer.getByTestId('action-status').filter({ hasText: 'Retry: requested' }).waitFor();

    await page.locator(`${stuckTile}[data-state="restoring"]`).waitFor({ timeout: 2 * 60_000 });
    await screenshot(page, 'floor-retry-restoring');
    await page.locator(`${stuckTile}[data-state="done"]`).waitFor({ timeout: 4 * 60_000 });
    await expect(stuck.getByTestId('tile-state').textContent()).resolves.toBe('done');
    const states = await recordedTileStates(page);
    expect(states[0]).toBe('stuck');
    expect(states.at(-1)).toBe('done');
    expect(states).toContain('restoring');
    expect(states.slice(1)).not.toContain('stuck');
    // The drawer followed the new run: its last attempt is done.
    await drawer.locator('[data-testid="drawer-attempts"] li.outcome-done').first().waitFor();
    await expect(page.evaluate('window.benchNoReload')).resolves.toBe(true);
    await screenshot(page, 'drawer-retried-done');
  });
});
