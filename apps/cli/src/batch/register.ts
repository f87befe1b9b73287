import type { Command } from 'commander';
import { runAction } from '../run-action';
import type { ApiOptions, BatchChange } from './batch-command';
import type { CreateBatchOptions } from './batch-request';

const collect = (value: string, previous: string[]) => [...previous, value];

/** --server, --user, --password-stdin, --json on every `bench batch` verb. */
function apiOptions(command: Command): Command {
  return command
    .option('--server <url>', 'the server (default: BENCH_SERVER_URL, else the bench running here)')
    .option('--user <name>', 'sign in as this manager (default: the token in BENCH_API_TOKEN)')
    .option('--password-stdin', "read --user's password from standard input (else it is asked for)")
    .option('--json', 'print the API’s JSON');
}

const EXIT_CODES =
  '\nExit codes: 0 done, 1 the server refused (the line says why) or did not answer, 2 bad arguments.';

export function registerBatch(program: Command): void {
  const batch = program
    .command('batch')
    .description('overnight batches: make, list, pause, resume and cancel them (through the server)');

  apiOptions(batch.command('list').description('batches, newest first, with their progress'))
    .addHelpText('after', EXIT_CODES)
    .action((options: ApiOptions) =>
      runAction(async () => (await import('./batch-command')).batchListCommand(options)),
    );

  apiOptions(batch.command('show').description('one batch: progress, pre-fetch and signing, warnings'))
    .argument('<batch-id>')
    .addHelpText('after', EXIT_CODES)
    .action((batchId: string, options: ApiOptions) =>
      runAction(async () => (await import('./batch-command')).batchShowCommand(batchId, options)),
    );

  apiOptions(
    batch
      .command('create')
      .description('make a batch: which benches or slots, which firmware, now or at a time'),
  )
    .requiredOption('--name <name>', 'what the floor calls it, e.g. "Rack 3 overnight"')
    .option(
      '--firmware <selector>',
      '"latest" (the newest signed build per model) or a build such as 22G100',
      'latest',
    )
    .option('--update', 'update (keep user data) instead of erase')
    .option('--bench <id>', 'every slot of this bench (repeatable)', collect, [])
    .option('--slot <id>', 'this slot, by its id (repeatable)', collect, [])
    .option('--at <time>', 'start at a clock time (22:00: the next one) or an ISO 8601 time; default now')
    .option('--policy <name>', 'a retry policy of bench.config.yaml, e.g. overnight')
    .addHelpText(
      'after',
      `${EXIT_CODES}\n\nExample:\n  bench batch create --name "Rack 3 overnight" --bench rack-3 --at 22:00 --policy overnight --user max`,
    )
    .action((options: ApiOptions & CreateBatchOptions) =>
      runAction(async () => (await import('./batch-command')).batchCreateCommand(options)),
    );

  const changes: [BatchChange, string][] = [
    ['pause', 'hold its queued runs (running ones finish)'],
    ['resume', 'release its held runs'],
    ['cancel', 'end its queued runs and stop the running ones'],
  ];
  for (const [change, description] of changes) {
    const command = apiOptions(batch.command(change).description(description)).argument('<batch-id>');
    if (change === 'cancel') command.option('--reason <text>', 'why (kept with the batch)');
    command
      .addHelpText('after', EXIT_CODES)
      .action((batchId: string, options: ApiOptions & { reason?: string }) =>
        runAction(async () => (await import('./batch-command')).batchChangeCommand(change, batchId, options)),
      );
  }
}
