import { loadEnv } from '@bench/config';
import {
  checkConfig,
  checkDatabase,
  checkDisk,
  checkHubs,
  checkNode,
  checkRedis,
  checkUsbAccess,
  checkUsbmuxd,
  type CheckResult,
} from './checks';

export interface DoctorOptions {
  json?: boolean;
}

/** Prints the checks as a table (or JSON) and returns 1 when any check failed. */
export async function doctorCommand(
  options: DoctorOptions,
  out: NodeJS.WritableStream = process.stdout,
): Promise<number> {
  const env = loadEnv();
  const results: CheckResult[] = [
    checkNode(),
    checkConfig(env),
    ...(await checkRedis(env)),
    await checkDatabase(env),
    ...(await checkUsbmuxd(env)),
    checkUsbAccess(),
    checkDisk(env),
    await checkHubs(),
  ];
  out.write(options.json ? `${JSON.stringify(results, null, 2)}\n` : formatTable(results));
  return results.some((r) => r.status === 'FAIL') ? 1 : 0;
}

export function formatTable(results: CheckResult[]): string {
  const nameWidth = Math.max(5, ...results.map((r) => r.name.length));
  const lines = [`${'CHECK'.padEnd(nameWidth)}  STATUS  DETAIL`];
  for (const r of results) {
    lines.push(`${r.name.padEnd(nameWidth)}  ${r.status.padEnd(6)}  ${r.detail}`);
    if (r.fix) lines.push(`${''.padEnd(nameWidth)}          fix: ${r.fix}`);
  }
  const fails = results.filter((r) => r.status === 'FAIL').length;
  const warns = results.filter((r) => r.status === 'WARN').length;
  lines.push(
    '',
    fails ? `${fails} check(s) failed, ${warns} warning(s)` : `all checks passed, ${warns} warning(s)`,
  );
  return `${lines.join('\n')}\n`;
}
