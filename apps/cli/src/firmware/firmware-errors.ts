import { BenchError } from '@bench/bench-domain';
import { ProtocolError } from '@bench/protocols';

/**
 * Runs a firmware command: a firmware, catalog or signing problem is the user's answer, not a
 * crash, so it prints one line (`bench: …`) and exits 1 instead of a stack trace.
 */
export async function firmwareAction(
  action: () => Promise<number>,
  err: NodeJS.WritableStream = process.stderr,
): Promise<number> {
  try {
    return await action();
  } catch (error) {
    if (error instanceof BenchError || error instanceof ProtocolError) {
      err.write(`bench: ${error.message}\n`);
      return 1;
    }
    throw error;
  }
}
