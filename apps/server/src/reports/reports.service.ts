// Reports and restore certificates from the record: a batch's report (JSON, CSV, HTML) and a
// signed certificate for a run that ended done. The shop's signing key is loaded (or created)
// on the first certificate and kept; a key that cannot be used is reported, and tried again on
// the next request, so fixing the file needs no restart.
import {
  ConflictException,
  Inject,
  Injectable,
  NotFoundException,
  ServiceUnavailableException,
} from '@nestjs/common';
import { BENCH_ENV, LOGGER } from '@bench/app-runtime';
import type { BenchEnv } from '@bench/config';
import type { BatchReport, RestoreCertificate } from '@bench/events';
import type { Logger } from '@bench/logging';
import { BenchDatabase, ReportRepository } from '@bench/persistence';
import {
  buildBatchReport,
  buildDeviceRows,
  certificateBody,
  loadOrCreateShopKey,
  NotCertifiableError,
  ShopKeyError,
  signCertificate,
  type ShopKey,
} from '@bench/reports';

@Injectable()
export class ReportsService {
  private readonly reports: ReportRepository;
  private key?: Promise<ShopKey>;

  constructor(
    @Inject(BENCH_ENV) private readonly env: BenchEnv,
    @Inject(LOGGER) private readonly rootLogger: Logger,
    database: BenchDatabase,
  ) {
    this.reports = new ReportRepository(database);
  }

  private get logger(): Logger {
    return this.rootLogger.child({ component: 'Reports' });
  }

  async batchReport(batchId: string): Promise<BatchReport> {
    const records = await this.reports.batchRecords(batchId);
    if (!records) throw new NotFoundException(`no batch ${batchId}`);
    return buildBatchReport(records, { shop: this.env.shop.name, now: new Date() });
  }

  async certificate(runId: string): Promise<RestoreCertificate> {
    const records = await this.reports.runRecords(runId);
    if (!records) throw new NotFoundException(`no run ${runId}`);
    const [row] = buildDeviceRows(records);
    const slot = records.slots.find((s) => s.id === records.run.slotId);
    const key = await this.shopKey();
    try {
      const body = certificateBody(row, {
        shop: this.env.shop.name,
        issuedAt: new Date(),
        keyId: key.keyId,
        slotLabel: slot?.label ?? null,
      });
      return signCertificate(body, key.privateKey);
    } catch (error) {
      if (error instanceof NotCertifiableError) throw new ConflictException(error.message);
      throw error;
    }
  }

  private shopKey(): Promise<ShopKey> {
    this.key ??= loadOrCreateShopKey({
      privateKeyFile: this.env.shop.keyFile,
      publicKeyFile: this.env.shop.publicKeyFile,
    }).then(
      (key) => {
        if (key.created)
          this.logger.info(
            `created the shop's signing key ${this.env.shop.keyFile} (${key.keyId}); customers verify with ${this.env.shop.publicKeyFile}`,
          );
        for (const warning of key.warnings) this.logger.warn(warning);
        return key;
      },
      (error: unknown) => {
        this.key = undefined;
        if (error instanceof ShopKeyError)
          throw new ServiceUnavailableException(`cannot sign certificates: ${error.message}`);
        throw error;
      },
    );
    return this.key;
  }
}
