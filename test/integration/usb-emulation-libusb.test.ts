// The real USB transport (LibusbBus over node `usb`) against simulated phones emulated at the
// usbdevfs level through umockdev: a jest child runs inside the testbed (LD_PRELOAD +
// UMOCKDEV_DIR) the UsbBus conformance suite the simulated bus passes, plus hotplug timing.
// Its fixture drives this process's simulated bench through the control API.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { SimBench, SimControlApi } from '@bench/device-sim';
import { REPO_ROOT, runProcess } from '@bench/testing';
import { CONTROL_ENV, KEY_ENV } from '../usb-emulation/remote-fixture';
import { startUsbEmulation, type UsbEmulation } from '../usb-emulation/usb-emulation';

jest.setTimeout(180_000);

interface JestReport {
  numPassedTests: number;
  numFailedTests: number;
  numPendingTests: number;
  numTodoTests: number;
  testResults: { assertionResults: { fullName: string; status: string; failureMessages: string[] }[] }[];
}

describe('LibusbBus under umockdev', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'bench-usb-emulation-libusb-'));
  let bench: SimBench;
  let api: SimControlApi;
  let emulation: UsbEmulation;
  let controlUrl: string;

  beforeAll(async () => {
    bench = new SimBench({ speed: 50, firmwareDir: path.join(dir, 'firmware') });
    api = new SimControlApi(bench);
    controlUrl = await api.listen();
    emulation = await startUsbEmulation(bench.bus);
  });

  afterAll(async () => {
    await emulation?.close();
    await api?.close();
    await bench?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('passes the UsbBus conformance suite, reports hotplug within 1 s, fails removed handles with ENODEV', async () => {
    const report = path.join(dir, 'report.json');
    const result = await runProcess(
      process.execPath,
      [
        path.join(REPO_ROOT, 'node_modules/jest/bin/jest.js'),
        '--config',
        path.join(REPO_ROOT, 'test/usb-emulation/jest.config.js'),
        '--runInBand',
        '--json',
        '--outputFile',
        report,
      ],
      {
        cwd: REPO_ROOT,
        env: emulation.env({
          PATH: process.env.PATH,
          HOME: process.env.HOME,
          [CONTROL_ENV]: controlUrl,
          [KEY_ENV]: bench.key.toString('hex'),
        }),
        timeoutMs: 150_000,
      },
    );
    const context = `jest child exited ${result.code}\n${result.stderr.slice(-6000)}\nharness:\n${emulation.log}`;
    let parsed: JestReport;
    try {
      parsed = JSON.parse(readFileSync(report, 'utf8')) as JestReport;
    } catch {
      throw new Error(`no jest report: ${context}`);
    }
    const tests = parsed.testResults.flatMap((r) => r.assertionResults);
    const failed = tests.filter((t) => t.status !== 'passed');
    if (failed.length) {
      throw new Error(
        failed.map((t) => `${t.fullName}: ${t.status}\n${t.failureMessages.join('\n')}`).join('\n\n') +
          `\n${context}`,
      );
    }
    // Nine conformance checks, hotplug timing and ENODEV after a removal; none skipped.
    expect(tests.map((t) => t.fullName)).toHaveLength(11);
    expect(parsed.numPendingTests + parsed.numTodoTests).toBe(0);
    expect(result.code).toBe(0);
    await emulation.settled();
  });
});
