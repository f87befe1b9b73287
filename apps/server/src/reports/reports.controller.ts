import { Controller, Param, Res } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import type { BatchReport, RestoreCertificate } from '@bench/events';
import { deviceRowsCsv, morningReportHtml } from '@bench/reports';
import { Route } from '../auth/access';
import { ReportsService } from './reports.service';

/** A name safe in a Content-Disposition header and on any file system. */
function fileSafe(text: string): string {
  return text.replace(/[^A-Za-z0-9._-]+/g, '-').slice(0, 80) || 'report';
}

@ApiTags('reports')
@Controller('api')
export class ReportsController {
  constructor(private readonly reports: ReportsService) {}

  @Route('batchReportJson', "A batch's report: summary, who needs a human and why, every phone")
  json(@Param('batchId') batchId: string): Promise<BatchReport> {
    return this.reports.batchReport(batchId);
  }

  @Route('batchReportCsv', "A batch's phones as CSV (RFC 4180), one row per run")
  async csv(
    @Param('batchId') batchId: string,
    @Res({ passthrough: true }) response: Response,
  ): Promise<string> {
    const report = await this.reports.batchReport(batchId);
    response.type('text/csv; charset=utf-8');
    response.setHeader('Content-Disposition', `attachment; filename="batch-${fileSafe(batchId)}.csv"`);
    return deviceRowsCsv(report.devices);
  }

  @Route('batchReportHtml', "A batch's morning report as a printable HTML page")
  async html(
    @Param('batchId') batchId: string,
    @Res({ passthrough: true }) response: Response,
  ): Promise<string> {
    const report = await this.reports.batchReport(batchId);
    response.type('text/html; charset=utf-8');
    // The page carries no script and loads nothing: say so to the browser too.
    response.setHeader('Content-Security-Policy', "default-src 'none'; style-src 'unsafe-inline'");
    return morningReportHtml(report);
  }

  @Route('runCertificate', 'A signed restore certificate for a run that ended done (409 otherwise)')
  async certificate(
    @Param('runId') runId: string,
    @Res({ passthrough: true }) response: Response,
  ): Promise<RestoreCertificate> {
    const certificate = await this.reports.certificate(runId);
    response.setHeader(
      'Content-Disposition',
      `attachment; filename="restore-certificate-${fileSafe(certificate.certificate.ecid)}-${fileSafe(runId)}.json"`,
    );
    return certificate;
  }
}
