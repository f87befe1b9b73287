// Every real log in test/fixtures/idevicerestore-logs against the stage and class its README
// row gives. The README is the single source of the expectations (and of each log's origin).
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { FAILURE_CLASSES, STAGES, isOneOf, type FailureClass, type Stage } from '@bench/bench-domain';
import type { RestoreEvent } from '../restore-events';
import { IdevicerestoreLogParser, type IdevicerestoreVerdict } from './log-parser';

const FIXTURES = path.resolve(__dirname, '../../../../test/fixtures/idevicerestore-logs');

interface Expectation {
  file: string;
  stage: Stage;
  failureClass: FailureClass;
}

function readExpectations(): Expectation[] {
  const rows = readFileSync(path.join(FIXTURES, 'README.md'), 'utf8')
    .split('\n')
    .filter((line) => line.startsWith('| `'));
  return rows.map((row) => {
    const cells = row.split('|').map((cell) => cell.trim().replace(/^`|`$/g, ''));
    const [, file, , , stage, failureClass] = cells;
    if (!isOneOf(STAGES, stage) || !isOneOf(FAILURE_CLASSES, failureClass)) {
      throw new Error(`README row for ${file} has no valid stage/class: ${row}`);
    }
    return { file, stage, failureClass };
  });
}

function parseFixture(file: string): { verdict: IdevicerestoreVerdict; events: RestoreEvent[] } {
  const parser = new IdevicerestoreLogParser();
  const events = readFileSync(path.join(FIXTURES, file), 'utf8')
    .split('\n')
    .flatMap((line) => parser.push(line));
  return { verdict: parser.result(), events };
}

const expectations = readExpectations();

describe('idevicerestore log parser on real logs from public issue threads', () => {
  it('has a README row for every fixture and a fixture for every row', () => {
    const logs = readdirSync(FIXTURES).filter((name) => name.endsWith('.log'));
    expect(expectations.map((e) => e.file).sort()).toEqual(logs.sort());
    expect(logs.length).toBeGreaterThanOrEqual(12);
  });

  it.each(expectations)('$file → $stage / $failureClass', ({ file, stage, failureClass }) => {
    const { verdict } = parseFixture(file);
    expect(verdict.ok).toBe(false);
    if (verdict.ok) return;
    expect({ stage: verdict.stage, failureClass: verdict.failureClass }).toEqual({ stage, failureClass });
    expect(verdict.evidence.stage).toBe(stage);
    expect(verdict.reason.length).toBeGreaterThan(10);
  });

  it('points at the line that explains the failure, as printed', () => {
    const { verdict } = parseFixture('ibec-upload-failed.log');
    expect(verdict).toMatchObject({
      ok: false,
      lineNumber: 10,
      message: 'ERROR: Unable to send iBEC component: Unable to upload data to device',
      rule: 'component-upload-failed',
    });
  });

  it('keeps the device log of a "Log is available:" block as evidence', () => {
    const { verdict, events } = parseFixture('fdr-recover-failed.log');
    if (verdict.ok) throw new Error('expected a failure');
    expect(verdict.evidence.statusCode).toBe(53);
    expect(verdict.evidence.lastDeviceMessage).toBe('Status: Failed to recover FDR data.');
    expect(verdict.evidence.deviceLog).toContain('AMFDRDataHTTPChallengeClaim failed');
    // the tool's own line after the block is not device log
    expect(verdict.evidence.deviceLog).not.toContain('Unable to successfully restore device');
    expect(events.filter((e) => e.type === 'device-log').length).toBe(4);
  });

  it('ends a device log where the tool resumes, even when the log lines are unprefixed', () => {
    const { verdict } = parseFixture('unhandled-status-100-timestamped.log');
    if (verdict.ok) throw new Error('expected a failure');
    expect(verdict.evidence.statusCode).toBe(100);
    expect(verdict.evidence.deviceLog?.split('\n')[0]).toBe('ry_os_volume');
    expect(verdict.evidence.deviceLog).not.toContain('Failed to send/receive data');
  });

  it('records the signing server status with the refusal', () => {
    const { verdict } = parseFixture('tss-status-94.log');
    if (verdict.ok) throw new Error('expected a failure');
    expect(verdict.evidence.statusCode).toBe(94);
  });

  it('follows a whole restore-mode pass through its stages', () => {
    const { events } = parseFixture('full-restore-baseband-refused-with-device-log.log');
    const stages = events.filter((e) => e.type === 'stage').map((e) => (e.type === 'stage' ? e.stage : ''));
    expect(stages).toEqual(['send-filesystem', 'verify', 'flash-firmware', 'baseband']);
    const operations = events.flatMap((e) =>
      e.type === 'progress' && e.deviceOperation ? [e.deviceOperation] : [],
    );
    expect(operations).toContainEqual({ code: 14, name: 'Verifying restore' });
    expect(operations).toContainEqual({ code: 19, name: 'Updating baseband' });
    expect(events).toContainEqual(
      expect.objectContaining({ type: 'progress', stage: 'send-filesystem', percent: 100 }),
    );
  });

  it('reads -P progress lines as progress of the stage under way', () => {
    const { events } = parseFixture('plain-progress-verification-error.log');
    const percents = events.flatMap((e) => (e.type === 'progress' ? [[e.stage, e.percent]] : []));
    expect(percents).toEqual([
      ['prepare', 0],
      ['prepare', 10],
      ['prepare', 20],
      ['prepare', 60],
      ['prepare', 80],
    ]);
  });

  it('emits device events with the ECID the log shows', () => {
    const { events } = parseFixture('ibss-did-not-reconnect-after-retries.log');
    expect(events).toContainEqual(
      expect.objectContaining({ type: 'device', mode: 'dfu', ecid: '000370603A8A4026' }),
    );
  });
});
