import { loadEnv } from '@bench/config';
import { BenchDatabase } from '@bench/persistence';

/** `bench migrate`: applies pending database migrations (bench start does this by itself). */
export async function migrateCommand(out: NodeJS.WritableStream = process.stdout): Promise<number> {
  const env = loadEnv();
  const database = BenchDatabase.fromUrl(env.database.url, env.home);
  try {
    const result = await database.migrate();
    out.write(
      result.applied.length
        ? `${database.describe()}: applied ${result.applied.join(', ')}\n`
        : `${database.describe()}: up to date (${result.alreadyApplied} migrations)\n`,
    );
    return 0;
  } catch (error) {
    process.stderr.write(`bench migrate: ${database.describe()}: ${(error as Error).message}\n`);
    return 1;
  } finally {
    await database.close();
  }
}
