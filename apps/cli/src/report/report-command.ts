// `bench report BATCH --format json|csv|html [--out FILE]`: the same report the server serves,
// read straight from the database (no server needed, e.g. on the bench PC in the morning).
import { writeFile } from 'node:fs/promises';
import { loadEnv } from '@bench/config';
import { BenchDatabase, ReportRepository } from '@bench/persistence';
import { buildBatchReport, deviceRowsCsv, morningReportHtml } from '@bench/reports';

const FORMATS = ['json', 'csv', 'html'] as const;
type Format = (typeof FORMATS)[number];

export interface ReportOptions {
  format: string;
  out?: string;
}

export interface ReportIo {
  out: NodeJS.WritableStream;
  err: NodeJS.WritableStream;
}

export async function reportCommand(
  batchId: string,
  options: ReportOptions,
  io: ReportIo = { out: process.stdout, err: process.stderr },
): Promise<number> {
  if (!(FORMATS as readonly string[]).includes(options.format)) {
    io.err.write(
      `bench report: unknown format '${options.format}'; expected one of: ${FORMATS.join(', ')}\n`,
    );
    return 2;
  }
  const env = loadEnv();
  const database = BenchDatabase.fromUrl(env.database.url, env.home);
  try {
    await database.migrate();
    const records = await new ReportRepository(database).batchRecords(batchId);
    if (!records) {
      io.err.write(`bench report: no batch ${batchId} in ${database.describe()}\n`);
      return 1;
    }
    const report = buildBatchReport(records, { shop: env.shop.name, now: new Date() });
    const text = render(report, options.format as Format);
    if (options.out) {
      await writeFile(options.out, text);
      io.out.write(`wrote ${options.out} (${options.format}, ${report.devices.length} phones)\n`);
    } else {
      io.out.write(text);
    }
    return 0;
  } finally {
    await database.close();
  }
}

function render(report: ReturnType<typeof buildBatchReport>, format: Format): string {
  switch (format) {
    case 'json':
      return `${JSON.stringify(report, null, 2)}\n`;
    case 'csv':
      return deviceRowsCsv(report.devices);
    case 'html':
      return morningReportHtml(report);
  }
}
