// Drives the dashboard in a real browser: Debian's Chromium through playwright-core (no
// browser download). Screenshots land in test-results/dashboard/ for a person to look at.
import { mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { REPO_ROOT, runBench } from '@bench/testing';

export const CHROMIUM_PATH = '/usr/bin/chromium';
export const SCREENSHOT_DIR = path.join(REPO_ROOT, 'test-results', 'dashboard');

/** A wall screen; tablets are 1024×768. */
export const WALL_SCREEN = { width: 1920, height: 1080 };

/** A loopback port nothing listens on now: a bench whose server must come back on the same address. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
      .once('error', reject)
      .listen(0, '127.0.0.1', () => {
        const { port } = server.address() as { port: number };
        server.close(() => resolve(port));
      });
  });
}

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: ['--no-sandbox'] });
}

export async function openDashboard(
  browser: Browser,
  serverUrl: string,
  viewport: { width: number; height: number } = WALL_SCREEN,
): Promise<Page> {
  const page = await browser.newPage({ viewport });
  await page.goto(serverUrl);
  return page;
}

export async function logIn(page: Page, username: string, password: string): Promise<void> {
  await page.getByTestId('login-username').fill(username);
  await page.getByTestId('login-password').fill(password);
  await page.getByTestId('login-submit').click();
}

/** Saves a full-window screenshot as test-results/dashboard/<name>.png and returns its path. */
export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const file = path.join(SCREENSHOT_DIR, `${name}.png`);
  await page.screenshot({ path: file });
  return file;
}

/** `bench user add` against a running bench's home, as an operator would set up the first admin. */
export async function addUser(
  benchHome: string,
  user: { username: string; password: string; role: 'technician' | 'manager' | 'admin' },
): Promise<void> {
  const result = await runBench(
    ['user', 'add', '--role', user.role, '--username', user.username, '--password', user.password],
    { env: { PATH: process.env.PATH, HOME: process.env.HOME, BENCH_HOME: benchHome } },
  );
  if (result.code !== 0)
    throw new Error(`bench user add failed (${result.code}):\n${result.stdout}\n${result.stderr}`);
}

/**
 * From now on the page notes every state the tile matching `tileSelector` shows, in order, as it
 * renders them (a MutationObserver in the page); `recordedTileStates` reads the list back.
 */
export async function recordTileStates(page: Page, tileSelector: string): Promise<void> {
  // Page-side code goes in as a string: the test's tsconfig has no DOM types.
  await page.evaluate(`(() => {
    const seen = (window.benchTileStates = []);
    const look = () => {
      const state = document.querySelector(${JSON.stringify(tileSelector)})?.getAttribute('data-state');
      if (state && seen[seen.length - 1] !== state) seen.push(state);
    };
    look();
    new MutationObserver(look).observe(document.body, {
      subtree: true,
      childList: true,
      attributes: true,
      attributeFilter: ['data-state'],
    });
  })()`);
}

export async function recordedTileStates(page: Page): Promise<string[]> {
  return (await page.evaluate('window.benchTileStates')) as string[];
}
