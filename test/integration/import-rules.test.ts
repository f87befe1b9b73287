// Acceptance (foundation #5): a forbidden import fails the lint step (dependency-cruiser).
import { rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { REPO_ROOT, runProcess } from '@bench/testing';

const depcruise = path.join(REPO_ROOT, 'node_modules/.bin/depcruise');

async function cruise(probeFile: string, source: string) {
  const file = path.join(REPO_ROOT, probeFile);
  writeFileSync(file, source);
  try {
    return await runProcess(depcruise, [probeFile, '--config', '.dependency-cruiser.cjs'], {
      cwd: REPO_ROOT,
    });
  } finally {
    rmSync(file, { force: true });
  }
}

describe('import rules', () => {
  it('the real tree passes', async () => {
    const result = await runProcess(depcruise, ['apps', 'libs', '--config', '.dependency-cruiser.cjs'], {
      cwd: REPO_ROOT,
    });
    expect(result.stdout).toContain('no dependency violations found');
    expect(result.code).toBe(0);
  });

  it('the server importing the USB transport fails', async () => {
    const result = await cruise(
      `apps/server/src/__probe_${process.pid}.ts`,
      "export * from '@bench/usb-transport';\n",
    );
    expect(result.code).not.toBe(0);
    expect(result.stdout).toMatch(
      /error server-never-touches-usb: apps\/server\/src\/__probe_\d+\.ts → libs\/usb-transport\/src\/index\.ts/,
    );
  });

  it('a pure codec library importing another library fails', async () => {
    const result = await cruise(
      `libs/bench-domain/src/__probe_${process.pid}.ts`,
      "export * from '@bench/config';\n",
    );
    expect(result.code).not.toBe(0);
    expect(result.stdout).toContain('pure-libs-import-nothing-internal');
  });

  it('Prisma outside the persistence library fails', async () => {
    const result = await cruise(
      `apps/bench-agent/src/__probe_${process.pid}.ts`,
      "export * from '@prisma/client';\n",
    );
    expect(result.code).not.toBe(0);
    expect(result.stdout).toContain('only-persistence-imports-prisma');
  });
});
