// `bench restore` as a user runs it: JSON lines, exit code by failure class, both engines
// (bench's own and Debian's idevicerestore) against an in-process simulated phone.
import { runBench, tempDir } from '@bench/testing';

jest.setTimeout(180_000);

describe('bench restore --simulate', () => {
  const { dir, remove } = tempDir('bench-restore-cli-');
  afterAll(() => remove());
  const run = (...args: string[]) =>
    runBench(['restore', '--simulate', '--json', ...args], {
      env: { PATH: process.env.PATH, BENCH_HOME: dir },
      timeoutMs: 150_000,
    });
  const events = (stdout: string) =>
    stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { type: string; stage?: string; failureClass?: string });

  it('restores a phone from DFU and exits 0, one JSON event per line', async () => {
    const result = await run('--start-mode', 'dfu');
    const lines = events(result.stdout);
    expect(lines.filter((e) => e.type === 'stage').map((e) => e.stage)).toEqual(
      expect.arrayContaining([
        'prepare',
        'send-ibss',
        'send-ibec',
        'boot-ramdisk',
        'send-filesystem',
        'reboot',
      ]),
    );
    expect(lines.at(-1)).toMatchObject({ type: 'done', buildVersion: '22G100' });
    expect(result.code).toBe(0);
  });

  it.each([
    ['status:1015@verify', 'device-hardware', 15],
    ['unsigned-build', 'signing-refused', 12],
  ])('--fault %s ends %s with exit code %d', async (fault, failureClass, code) => {
    const result = await run('--fault', fault);
    expect(events(result.stdout).at(-1)).toMatchObject({ type: 'failed', failureClass });
    expect(result.code).toBe(code);
  });

  it("drives Debian's idevicerestore as the engine (restore mode), with the same events", async () => {
    const result = await run('--engine', 'idevicerestore', '--start-mode', 'restore');
    const lines = events(result.stdout);
    expect(lines.some((e) => e.type === 'progress')).toBe(true);
    expect(lines.at(-1)).toMatchObject({ type: 'done' });
    expect(result.code).toBe(0);
  });

  it('refuses bad options with exit 2 and a clear message', async () => {
    const result = await runBench(['restore', '--ecid', 'zz', '--latest'], {
      env: { PATH: process.env.PATH, BENCH_HOME: dir },
    });
    expect(result.code).toBe(2);
    expect(result.stderr.trim()).toBe(
      "bench restore: 'zz' is not an ECID (expected 16 hex digits, 0x-hex or decimal)",
    );
    const fault = await run('--fault', 'meltdown');
    expect(fault.code).toBe(2);
    expect(fault.stderr).toContain("--fault: unknown fault 'meltdown'");
  });
});
