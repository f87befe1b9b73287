// The shop-floor dashboard on a simulated bench, in a real browser: log in, see every slot,
// follow one phone from restoring to done without reloading, open its drawer, read the summary,
// and ride out a server restart (the page reconnects by itself and catches up).
import type { Browser, Page } from 'playwright-core';
import { startBench, type RunningBench } from './bench-process.helper';
import { addUser, freePort, launchBrowser, logIn, openDashboard, screenshot } from './dashboard.helper';

jest.setTimeout(8 * 60_000);

const ADMIN = { username: 'admin', password: 'correct horse battery', role: 'admin' } as const;
const tile = (slotId: string) => `[data-testid="slot-tile"][data-slot-id="${slotId}"]`;

describe('dashboard on a simulated bench of 16 phones', () => {
  let bench: RunningBench | undefined;
  let browser: Browser | undefined;
  let page: Page;

  afterAll(async () => {
    await browser?.close();
    await bench?.stop();
  });

  it('logs in, shows 16 slots and follows a restore to done live, then opens the slot drawer', async () => {
    // A fixed port: after a restart the server must come back where the page is.
    bench = await startBench(['--simulate', '16', '--speed', '100', '--seed', '1'], {
      BENCH_SERVER_PORT: String(await freePort()),
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

    const restoring = page.locator('[data-testid="slot-tile"][data-state="restoring"]').first();
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
});
