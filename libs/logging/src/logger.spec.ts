import { Writable } from 'node:stream';
import { createLogger, formatPrefix } from './logger';

function capture() {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      done();
    },
  });
  return { lines, destination };
}

describe('Logger', () => {
  it('prefixes every line with [host/port/ecid/run] and keeps the fields', () => {
    const { lines, destination } = capture();
    const logger = createLogger({ app: 'bench-agent', destination, context: { host: 'pc1' } });
    logger
      .child({ port: '1-1.4.2' })
      .child({ ecid: '001A2B3C4D5E6F70', run: 'r1', component: 'RestoreEngine' })
      .info('sending iBSS');
    expect(lines[0]).toMatchObject({
      app: 'bench-agent',
      host: 'pc1',
      port: '1-1.4.2',
      ecid: '001A2B3C4D5E6F70',
      run: 'r1',
      msg: '[pc1/1-1.4.2/001A2B3C4D5E6F70/r1] RestoreEngine: sending iBSS',
    });
  });

  it('marks unknown context with a dash', () => {
    expect(formatPrefix({ host: 'pc1', port: '1-2' })).toBe('[pc1/1-2/-/-]');
  });

  it('builds debug messages lazily', () => {
    const { lines, destination } = capture();
    const logger = createLogger({ app: 'x', destination, level: 'info' });
    const build = jest.fn(() => 'hex dump');
    logger.debugFn(build);
    expect(build).not.toHaveBeenCalled();
    expect(lines).toHaveLength(0);
  });
});
