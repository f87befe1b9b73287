// `bench classify-log` as a technician runs it: the built CLI on the real logs of
// test/fixtures/idevicerestore-logs (expectations from its README table), on stdin, and --json.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { REPO_ROOT, runBench, runProcess, tempDir } from '@bench/testing';

const FIXTURES = path.join(REPO_ROOT, 'test/fixtures/idevicerestore-logs');

const expectations = readFileSync(path.join(FIXTURES, 'README.md'), 'utf8')
  .split('\n')
  .filter((line) => line.startsWith('| `'))
  .map((row) => {
    const cells = row.split('|').map((cell) => cell.trim().replace(/^`|`$/g, ''));
    return { file: cells[1], stage: cells[4], failureClass: cells[5] };
  });

function benchWithInput(args: string[], input: string) {
  return runProcess(process.execPath, [path.join(REPO_ROOT, 'bin', 'bench.js'), ...args], {
    cwd: REPO_ROOT,
    input,
  });
}

// The line sequence of a successful Debian 1.0.0 run (reference/idevicerestore-1.0.0-restore-mode.md §6).
const SUCCESS_RUN = [
  'Found device in Restore mode',
  'About to restore device... ',
  'Connected to com.apple.mobile.restored, version 14',
  'About to send filesystem...',
  'Sending filesystem now...',
  '\r[==================================================] 100.0%',
  'Done sending filesystem',
  'Verifying restore (14)',
  'Got status message',
  'Status: Restore Finished',
  'Cleaning up...',
  'DONE',
  '',
].join('\r\n');

// Each case starts the CLI (a Node process): allow for a loaded CI machine.
jest.setTimeout(30_000);

describe('bench classify-log', () => {
  it('covers every fixture', () => {
    expect(expectations.map((e) => e.file).sort()).toEqual(
      readdirSync(FIXTURES)
        .filter((f) => f.endsWith('.log'))
        .sort(),
    );
  });

  it.each(expectations)('$file → $stage / $failureClass', async ({ file, stage, failureClass }) => {
    const result = await runBench(['classify-log', path.join(FIXTURES, file)]);
    expect(result.stderr).toBe('');
    expect(result.stdout.split('\n')[0]).toMatch(new RegExp(`^stage: ${stage}  class: ${failureClass}  `));
    expect(result.stdout).toMatch(/^reason: \S/m);
    expect(result.code).toBe(0);
  });

  it('prints the line that explains the failure, with its number', async () => {
    const result = await runBench(['classify-log', path.join(FIXTURES, 'ibec-upload-failed.log')]);
    expect(result.stdout.split('\n')[0]).toBe(
      'stage: send-ibec  class: transient-usb  line 10: ERROR: Unable to send iBEC component: Unable to upload data to device',
    );
  });

  it('reads standard input with -', async () => {
    const log = readFileSync(path.join(FIXTURES, 'baseband-not-accepted.log'), 'utf8');
    const result = await benchWithInput(['classify-log', '-'], log);
    expect(result.stdout.split('\n')[0]).toBe(
      "stage: baseband  class: device-hardware  line 3: ERROR: device didn't accept BasebandData",
    );
    expect(result.code).toBe(0);
  });

  it('prints JSON for machines, with the evidence', async () => {
    const result = await runBench(['classify-log', path.join(FIXTURES, 'fdr-recover-failed.log'), '--json']);
    const verdict = JSON.parse(result.stdout) as Record<string, unknown> & {
      evidence: Record<string, unknown>;
    };
    expect(verdict).toMatchObject({
      result: 'failure',
      stage: 'finalize',
      failureClass: 'device-hardware',
      line: 6,
      message: 'Status: Failed to recover FDR data.',
      rule: 'status-fdr-failed',
    });
    expect(verdict.evidence).toMatchObject({ statusCode: 53, stage: 'finalize' });
    expect(verdict.evidence.deviceLog).toEqual(expect.stringContaining('got http failures'));
    expect(result.code).toBe(0);
  });

  it('says success for a finished restore (CRLF, progress redraws), in text and JSON', async () => {
    const text = await benchWithInput(['classify-log', '-'], SUCCESS_RUN);
    expect(text.stdout).toBe('result: success  stage: finalize  line 10: Status: Restore Finished\n');
    expect(text.code).toBe(0);
    const json = await benchWithInput(['classify-log', '-', '--json'], SUCCESS_RUN);
    expect(JSON.parse(json.stdout)).toEqual({
      result: 'success',
      stage: 'finalize',
      line: 10,
      message: 'Status: Restore Finished',
    });
  });

  it('does not call exit 0 with DONE but no "Status: Restore Finished" a success', async () => {
    const result = await runBench([
      'classify-log',
      path.join(FIXTURES, 'nordata-quit-done-without-finished.log'),
    ]);
    expect(result.stdout).not.toMatch(/success/);
    expect(result.stdout.split('\n')[0]).toBe(
      'stage: flash-firmware  class: unknown  line 20: Not sending NORData... Quitting...',
    );
  });

  it('exits 2 for input it cannot read', async () => {
    const { dir, remove } = tempDir();
    try {
      const missing = await runBench(['classify-log', path.join(dir, 'missing.log')]);
      expect(missing.code).toBe(2);
      expect(missing.stderr).toMatch(/^bench: cannot read .*missing\.log: ENOENT/);
      const directory = await runBench(['classify-log', dir]);
      expect(directory.code).toBe(2);
      expect(directory.stderr).toMatch(/not a regular file/);
    } finally {
      remove();
    }
  });

  it('exits 1 for text that is not idevicerestore output', async () => {
    const result = await benchWithInput(['classify-log', '-'], 'hello\nworld\n');
    expect(result.code).toBe(1);
    expect(result.stderr).toBe('bench: standard input does not look like idevicerestore output\n');
  });
});
