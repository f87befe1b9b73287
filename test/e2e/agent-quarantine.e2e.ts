// Acceptance (agent #3): a flaky cable on one port fails three different phones → that port is
// quarantined; the same phones on another port succeed.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { tempDir, waitFor } from '@bench/testing';
import { startBench, type RunningBench } from './bench-process.helper';

jest.setTimeout(8 * 60_000);

const CONFIG = `
policies:
  default:
    quarantineAfterPhones: 3
    rules:
      transient-usb: { action: retry, maxAttempts: 2, backoffMs: 500 }
`;
const FAULTS = `
faults:
  - { slot: "1-1.1", fault: flaky-cable, dropsPerMinute: 120 }
`;

interface Phone {
  ecid: string;
  port: string | null;
}

describe('port quarantine', () => {
  let bench: RunningBench;
  const { dir, remove } = tempDir('bench-quarantine-');
  afterAll(async () => {
    await bench?.stop();
    remove();
  });

  it('quarantines a port that fails three phones, and those phones succeed elsewhere', async () => {
    const config = path.join(dir, 'bench.config.yaml');
    const faults = path.join(dir, 'faults.yaml');
    writeFileSync(config, CONFIG);
    writeFileSync(faults, FAULTS);
    bench = await startBench(['--simulate', '1', '--speed', '30', '--faults', faults], {
      BENCH_CONFIG: config,
    });
    const { controlUrl } = (await (await fetch(`${bench.agentUrl()}/simulation`)).json()) as {
      controlUrl: string;
    };
    const post = async (url: string, body: unknown) => {
      const response = await fetch(`${controlUrl}${url}`, { method: 'POST', body: JSON.stringify(body) });
      if (!response.ok) throw new Error(`${url}: ${response.status} ${await response.text()}`);
      return (await response.json()) as Phone;
    };
    const slot = async (port: string) => (await bench.status()).slots.find((s) => s.portPath === port);
    const phones: Phone[] = [];
    let spare = 2;
    for (let n = 0; n < 3; n++) {
      const phone =
        n === 0
          ? ((await (await fetch(`${controlUrl}/phones`)).json()) as Phone[])[0]
          : await post('/phones', { port: '1-1.1', productType: 'iPhone10,1' });
      phones.push(phone);
      // The flaky port fails it (the run gives up, or the port is quarantined with the third phone).
      await waitFor(
        async () => {
          const s = await slot('1-1.1');
          return s && s.ecid === phone.ecid && ['attention', 'quarantined'].includes(s.state) ? s : undefined;
        },
        180_000,
        `phone ${n + 1} to fail on the flaky port`,
      );
      await post(`/phones/${phone.ecid}/unplug`, {});
      await post(`/phones/${phone.ecid}/plug`, { port: `1-1.${spare++}` });
    }
    expect((await slot('1-1.1'))?.state).toBe('quarantined');
    for (const phone of phones) {
      await waitFor(
        async () => {
          const s = (await bench.status()).slots.find((x) => x.ecid === phone.ecid && x.portPath !== '1-1.1');
          return s?.state === 'done' ? s : undefined;
        },
        180_000,
        `phone ${phone.ecid} to succeed on another port`,
      );
    }
  });
});
