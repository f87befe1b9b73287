import { ProcessMetrics } from './process-metrics';

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('ProcessMetrics', () => {
  const metrics = new ProcessMetrics();
  afterAll(() => metrics.onModuleDestroy());

  it('reports this process: pid, CPU, memory', () => {
    const snapshot = metrics.snapshot();
    expect(snapshot.pid).toBe(process.pid);
    expect(snapshot.cpu.userSeconds).toBeGreaterThan(0);
    expect(snapshot.memory.rssBytes).toBeGreaterThan(0);
    expect(snapshot.memory.peakRssBytes).toBeGreaterThanOrEqual(snapshot.memory.rssBytes * 0.5);
  });

  it('sees a blocked event loop as delay, and a new window starts clean', async () => {
    metrics.restartEventLoopWindow();
    await pause(50);
    const started = Date.now();
    while (Date.now() - started < 150) {
      // the loop is blocked: no timer can run
    }
    await pause(50);
    const blocked = metrics.restartEventLoopWindow();
    expect(blocked.samples).toBeGreaterThan(0);
    expect(blocked.maxMs).toBeGreaterThanOrEqual(100);

    await pause(100);
    const quiet = metrics.snapshot().eventLoopDelay;
    expect(Date.parse(quiet.since)).toBeGreaterThan(Date.parse(blocked.since));
    expect(quiet.maxMs).toBeLessThan(100);
  });
});
