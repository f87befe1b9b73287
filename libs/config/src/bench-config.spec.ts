import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ConfigError } from './config-error';
import { parseBenchConfig } from './bench-config';

const FILE = 'bench.config.yaml';

function expectConfigError(yaml: string): ConfigError {
  try {
    parseBenchConfig(yaml, FILE);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).exitCode).toBe(2);
    return error as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

describe('parseBenchConfig', () => {
  it('accepts the shipped example and resolves policies', () => {
    const text = readFileSync(path.join(__dirname, '../../../bench.config.example.yaml'), 'utf8');
    const config = parseBenchConfig(text, FILE);
    expect(config.hosts[0].benches[0].slots).toHaveLength(4);
    expect(config.hosts[0].benches[0].slots[2]).toEqual({
      port: '1-1.3',
      label: 'A3',
      grid: { row: 1, col: 3 },
    });
    expect(config.policies.overnight.rules['transient-usb']).toEqual({
      action: 'retry',
      maxAttempts: 5,
      backoffMs: 10000,
    });
    // untouched classes come from the default policy
    expect(config.policies.overnight.rules['device-hardware'].action).toBe('stop-bricked');
  });

  it('treats an empty file as an empty topology', () => {
    expect(parseBenchConfig('', FILE).hosts).toEqual([]);
  });

  it('names the line of bad YAML', () => {
    const error = expectConfigError('hosts:\n  - id: a\n    benches: [\n');
    expect(error.message).toMatch(/^bench\.config\.yaml:\d+:\d+: invalid YAML: /);
  });

  it('names both lines of a duplicate port path', () => {
    const error = expectConfigError(
      [
        'hosts:',
        '  - id: pc1',
        '    benches:',
        '      - id: shelf',
        '        slots:',
        '          - port: 1-1.4.2',
        '            label: A1',
        '          - port: 1-1.4.2',
        '            label: A2',
      ].join('\n'),
    );
    expect(error.message).toBe(
      "bench.config.yaml:8:13: hosts[0].benches[0].slots[1].port: duplicate port path '1-1.4.2' (already used at line 6); expected each port once per host",
    );
  });

  it('rejects an unknown key and lists the expected ones', () => {
    const error = expectConfigError('hosts:\n  - id: pc1\n    benchs: []\n');
    expect(error.message).toBe(
      "bench.config.yaml:3:5: hosts[0].benchs: unknown key 'benchs'; expected one of: id, name, benches",
    );
  });

  it('requires a label on every slot', () => {
    const error = expectConfigError(
      'hosts:\n  - id: pc1\n    benches:\n      - id: s\n        slots:\n          - port: 1-1.2\n',
    );
    expect(error.message).toBe(
      'bench.config.yaml:6:13: hosts[0].benches[0].slots[0].label: required: a label such as "A3"',
    );
  });

  it('explains a malformed port path', () => {
    const error = expectConfigError(
      'hosts:\n  - id: pc1\n    benches:\n      - id: s\n        slots:\n          - { port: "usb 3", label: A1 }\n',
    );
    expect(error.message).toMatch(/slots\[0\]\.port: expected a USB port path such as 1-1\.4\.2$/);
  });

  it('rejects a bench that names an unknown policy', () => {
    const error = expectConfigError(
      'hosts:\n  - id: pc1\n    benches:\n      - id: s\n        policy: nightly\n',
    );
    expect(error.message).toBe(
      "bench.config.yaml:5:9: hosts[0].benches[0].policy: unknown policy 'nightly'; expected one of: default",
    );
  });

  it('detects policies that extend each other in a cycle', () => {
    const error = expectConfigError('policies:\n  a: { extends: b }\n  b: { extends: a }\n');
    expect(error.message).toMatch(/policies\.[ab]\.extends: policies extend each other in a cycle/);
  });

  it('rejects duplicate YAML keys', () => {
    const error = expectConfigError('hosts: []\nhosts: []\n');
    expect(error.message).toMatch(/^bench\.config\.yaml:2:1: invalid YAML: Map keys must be unique/);
  });

  it('reads webhooks: alert states by default, batch notices when asked, and refuses a hook for nothing', () => {
    const hook = 'url: "https://chat.example/hook", secret: "0123456789abcdef"';
    const config = parseBenchConfig(
      `alerts:\n  webhooks:\n    - { ${hook} }\n    - { ${hook}, states: [], batches: [attention, done] }\n`,
      FILE,
    );
    expect(config.alerts.webhooks.map(({ states, batches }) => ({ states, batches }))).toEqual([
      { states: ['stuck', 'bricked', 'attention', 'quarantined'], batches: [] },
      { states: [], batches: ['attention', 'done'] },
    ]);
    const never = expectConfigError(`alerts:\n  webhooks:\n    - { ${hook}, states: [] }\n`);
    expect(never.message).toMatch(
      /^bench\.config\.yaml:3:\d+: alerts\.webhooks\[0\]\.states: a webhook with no states and no batches would never be called/,
    );
    const unknown = expectConfigError(`alerts:\n  webhooks:\n    - { ${hook}, batches: [finished] }\n`);
    expect(unknown.message).toMatch(/alerts\.webhooks\[0\]\.batches\[0\]: .*attention/);
  });
});
