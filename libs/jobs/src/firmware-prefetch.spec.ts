import { parseAgentCommand } from './agent-commands';
import { parsePrefetchAnswer } from './firmware-prefetch';

describe('prefetch command', () => {
  const command = {
    action: 'prefetch',
    requestId: 'r-1',
    items: [{ productType: 'iPhone10,1', firmware: 'latest' }],
    behavior: 'erase',
    by: 'batch overnight',
  };

  it('is a host command: no port path, a request id, models and a behavior', () => {
    expect(parseAgentCommand(JSON.stringify(command))).toEqual(command);
  });

  it('refuses one that is malformed instead of guessing', () => {
    for (const bad of [
      { ...command, requestId: 7 },
      { ...command, behavior: 'wipe' },
      { ...command, items: 'iPhone10,1' },
      { ...command, items: [{ productType: 'iPhone10,1' }] },
    ])
      expect(parseAgentCommand(JSON.stringify(bad))).toBeUndefined();
  });

  it('still requires a port path of the port commands', () => {
    expect(parseAgentCommand(JSON.stringify({ action: 'pause', by: 'tom' }))).toBeUndefined();
    expect(parseAgentCommand(JSON.stringify({ action: 'pause', portPath: '1-1.1', by: 'tom' }))).toEqual({
      action: 'pause',
      portPath: '1-1.1',
      by: 'tom',
    });
  });
});

describe('prefetch answer', () => {
  it('keeps well-formed outcomes and drops the rest', () => {
    const answer = parsePrefetchAnswer(
      JSON.stringify({
        requestId: 'r-1',
        hostId: 'pc-1',
        at: 5,
        outcomes: [
          {
            productType: 'iPhone10,1',
            firmware: 'latest',
            build: '22G100',
            fetched: true,
            signing: 'signed',
            at: 5,
          },
          { productType: 'iPhone9,1', firmware: 'latest', fetched: true, signing: 'maybe', at: 5 },
        ],
      }),
    );
    expect(answer?.outcomes.map((o) => o.productType)).toEqual(['iPhone10,1']);
    expect(parsePrefetchAnswer('{"requestId":1}')).toBeUndefined();
    expect(parsePrefetchAnswer('not json')).toBeUndefined();
  });
});
