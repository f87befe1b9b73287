import { ConfigError } from '@bench/config';

/**
 * Runs a command's action and turns its result into the process exit code: the number it
 * returns, 2 for a configuration error (with its one-line message), 1 for anything unexpected.
 */
export async function runAction(action: () => Promise<number>): Promise<void> {
  try {
    process.exitCode = await action();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`bench: ${error.message}\n`);
      process.exitCode = error.exitCode;
      return;
    }
    process.stderr.write(`bench: ${(error as Error).stack ?? String(error)}\n`);
    process.exitCode = 1;
  }
}
