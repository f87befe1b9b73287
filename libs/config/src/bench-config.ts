// bench.config.yaml: hosts → benches → slots (USB port path → label and grid position),
// plus named retry policies. Validated at boot; every problem names the file, the line and
// the key, and says what was expected.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { isDocument, LineCounter, parseDocument, type Document, type Node as YamlNode } from 'yaml';
import { z } from 'zod';
import {
  DEFAULT_RETRY_POLICY,
  FAILURE_CLASSES,
  RESTORE_BEHAVIORS,
  isPortPath,
  type ClassRule,
  type FailureClass,
  type RetryPolicy,
} from '@bench/bench-domain';
import { ConfigError } from './config-error';

const id = z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, 'expected an id of letters, digits, "_", "." or "-"');

const AutoStartSchema = z.strictObject({
  firmware: z.string().min(1, 'expected "latest" or a build number such as 22G100'),
  behavior: z.enum(RESTORE_BEHAVIORS).default('erase'),
});

const SlotSchema = z.strictObject({
  port: z.string().refine(isPortPath, 'expected a USB port path such as 1-1.4.2'),
  label: z
    .string({ error: 'required: a label such as "A3"' })
    .min(1, 'expected a non-empty label such as "A3"'),
  grid: z.strictObject({ row: z.number().int().min(1), col: z.number().int().min(1) }).optional(),
  autoStart: AutoStartSchema.nullable().optional(),
});

const BenchSchema = z.strictObject({
  id,
  name: z.string().optional(),
  policy: z.string().optional(),
  autoStart: AutoStartSchema.nullable().optional(),
  slots: z.array(SlotSchema).default([]),
});

const HostSchema = z.strictObject({
  id,
  name: z.string().optional(),
  benches: z.array(BenchSchema).default([]),
});

const ClassRuleSchema = z.strictObject({
  action: z.enum(['retry', 'wait-power', 'stop-bricked', 'stop-attention', 'none']),
  maxAttempts: z.number().int().min(1).max(50).optional(),
  backoffMs: z.number().int().min(0).max(3_600_000).optional(),
});

const PolicySchema = z.strictObject({
  extends: z.string().optional(),
  quarantineAfterPhones: z.number().int().min(2).max(100).optional(),
  rules: z.partialRecord(z.enum(FAILURE_CLASSES), ClassRuleSchema).optional(),
});

const ALERT_STATES = ['stuck', 'bricked', 'attention', 'quarantined'] as const;

const BATCH_NOTICES = ['attention', 'warning', 'done'] as const;

const WebhookSchema = z
  .strictObject({
    url: z
      .string()
      .url('expected an http(s) URL')
      .refine((url) => /^https?:\/\//.test(url), 'expected an http(s) URL'),
    /** Signs each body (HMAC-SHA256) so the receiver can check it came from this bench. */
    secret: z.string().min(16, 'expected a secret of at least 16 characters'),
    /** Slot states that post an alert (`[]`: none, for a hook that only hears about batches). */
    states: z.array(z.enum(ALERT_STATES)).default([...ALERT_STATES]),
    /** What a batch says: it waits for a person, a build it needs stopped being signed, it ended. */
    batches: z.array(z.enum(BATCH_NOTICES)).default([]),
  })
  .refine((hook) => hook.states.length + hook.batches.length > 0, {
    message: 'a webhook with no states and no batches would never be called',
    path: ['states'],
  });

const AlertsSchema = z.strictObject({
  webhooks: z.array(WebhookSchema).default([]),
});

const ConfigSchema = z.strictObject({
  hosts: z.array(HostSchema).default([]),
  policies: z.record(id, PolicySchema).default({}),
  alerts: AlertsSchema.default({ webhooks: [] }),
});

export type SlotConfig = z.infer<typeof SlotSchema>;
export type BenchConfigEntry = z.infer<typeof BenchSchema>;
export type HostConfig = z.infer<typeof HostSchema>;
export type WebhookConfig = z.infer<typeof WebhookSchema>;
export type AlertState = (typeof ALERT_STATES)[number];
export type BatchNotice = (typeof BATCH_NOTICES)[number];
export { ALERT_STATES, BATCH_NOTICES };

export interface BenchConfig {
  file: string | null;
  hosts: HostConfig[];
  policies: Record<string, RetryPolicy>;
  alerts: { webhooks: WebhookConfig[] };
}

export const EMPTY_BENCH_CONFIG: BenchConfig = {
  file: null,
  hosts: [],
  policies: { default: DEFAULT_RETRY_POLICY },
  alerts: { webhooks: [] },
};

/** Reads and validates the file; a missing file means "no topology configured yet". */
export function loadBenchConfig(file: string): BenchConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { ...EMPTY_BENCH_CONFIG };
    throw new ConfigError(`${file}: cannot read: ${(error as Error).message}`);
  }
  return parseBenchConfig(text, file);
}

export function parseBenchConfig(text: string, file: string): BenchConfig {
  const name = path.basename(file) === file ? file : path.relative(process.cwd(), file) || file;
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: true, prettyErrors: false });
  const firstError = doc.errors[0];
  if (firstError) {
    const at = lines.linePos(firstError.pos[0]);
    const reason = firstError.message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '');
    throw new ConfigError(`${name}:${at.line}:${at.col}: invalid YAML: ${reason}`);
  }
  const raw: unknown = doc.toJS() ?? {};
  const parsed = ConfigSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    let keyPath = issue.path;
    let message = issue.message;
    if (issue.code === 'unrecognized_keys') {
      keyPath = [...issue.path, issue.keys[0]];
      message = `unknown key '${issue.keys[0]}'; expected one of: ${expectedKeys(keyPath)}`;
    }
    throw new ConfigError(`${name}:${where(doc, lines, keyPath)}: ${dotted(keyPath)}: ${message}`);
  }
  const config = parsed.data;
  checkDuplicates(config.hosts, doc, lines, name);
  const policies = resolvePolicies(config.policies, doc, lines, name);
  for (const [h, host] of config.hosts.entries()) {
    for (const [b, bench] of host.benches.entries()) {
      if (bench.policy && !policies[bench.policy]) {
        const keyPath = ['hosts', h, 'benches', b, 'policy'];
        throw new ConfigError(
          `${name}:${where(doc, lines, keyPath)}: ${dotted(keyPath)}: unknown policy '${bench.policy}'; ` +
            `expected one of: ${Object.keys(policies).join(', ')}`,
        );
      }
    }
  }
  return { file, hosts: config.hosts, policies, alerts: config.alerts };
}

function checkDuplicates(hosts: HostConfig[], doc: Document, lines: LineCounter, name: string): void {
  const hostIds = new Map<string, number>();
  for (const [h, host] of hosts.entries()) {
    if (hostIds.has(host.id)) {
      const keyPath = ['hosts', h, 'id'];
      throw new ConfigError(
        `${name}:${where(doc, lines, keyPath)}: ${dotted(keyPath)}: duplicate host id '${host.id}'`,
      );
    }
    hostIds.set(host.id, h);
    const ports = new Map<string, (string | number)[]>();
    const benchIds = new Set<string>();
    const labels = new Map<string, (string | number)[]>();
    for (const [b, bench] of host.benches.entries()) {
      if (benchIds.has(bench.id)) {
        const keyPath = ['hosts', h, 'benches', b, 'id'];
        throw new ConfigError(
          `${name}:${where(doc, lines, keyPath)}: ${dotted(keyPath)}: duplicate bench id '${bench.id}'`,
        );
      }
      benchIds.add(bench.id);
      for (const [s, slot] of bench.slots.entries()) {
        const keyPath = ['hosts', h, 'benches', b, 'slots', s, 'port'];
        const first = ports.get(slot.port);
        if (first) {
          throw new ConfigError(
            `${name}:${where(doc, lines, keyPath)}: ${dotted(keyPath)}: duplicate port path '${slot.port}' ` +
              `(already used at line ${where(doc, lines, first).split(':')[0]}); expected each port once per host`,
          );
        }
        ports.set(slot.port, keyPath);
        const labelPath = ['hosts', h, 'benches', b, 'slots', s, 'label'];
        const firstLabel = labels.get(slot.label);
        if (firstLabel) {
          throw new ConfigError(
            `${name}:${where(doc, lines, labelPath)}: ${dotted(labelPath)}: duplicate label '${slot.label}' ` +
              `(already used at line ${where(doc, lines, firstLabel).split(':')[0]}); expected unique labels per host`,
          );
        }
        labels.set(slot.label, labelPath);
      }
    }
  }
}

type PolicyEntry = z.infer<typeof PolicySchema>;

function resolvePolicies(
  entries: Record<string, PolicyEntry>,
  doc: Document,
  lines: LineCounter,
  name: string,
): Record<string, RetryPolicy> {
  const resolved: Record<string, RetryPolicy> = {};
  const resolving = new Set<string>();
  // A policy without `extends` builds on `default`; `default` itself builds on the built-in rules.
  const resolve = (policyName: string, from: (string | number)[]): RetryPolicy => {
    const done = resolved[policyName];
    if (done) return done;
    const entry = entries[policyName];
    if (!entry) {
      if (policyName === 'default') return DEFAULT_RETRY_POLICY;
      throw new ConfigError(
        `${name}:${where(doc, lines, from)}: ${dotted(from)}: unknown policy '${policyName}'`,
      );
    }
    const extendsPath = ['policies', policyName, 'extends'];
    if (resolving.has(policyName)) {
      throw new ConfigError(
        `${name}:${where(doc, lines, extendsPath)}: ${dotted(extendsPath)}: policies extend each other in a cycle`,
      );
    }
    resolving.add(policyName);
    const baseName = entry.extends ?? (policyName === 'default' ? null : 'default');
    const base = baseName === null ? DEFAULT_RETRY_POLICY : resolve(baseName, extendsPath);
    const rules = { ...base.rules };
    for (const [cls, rule] of Object.entries(entry.rules ?? {}) as [FailureClass, ClassRule][]) {
      rules[cls] = { ...rule };
    }
    resolving.delete(policyName);
    resolved[policyName] = {
      name: policyName,
      quarantineAfterPhones: entry.quarantineAfterPhones ?? base.quarantineAfterPhones,
      rules,
    };
    return resolved[policyName];
  };
  resolved.default = resolve('default', ['policies']);
  for (const policyName of Object.keys(entries)) resolve(policyName, ['policies', policyName]);
  return resolved;
}

function dotted(keyPath: readonly PropertyKey[]): string {
  return keyPath
    .map((k, i) => (typeof k === 'number' ? `[${k}]` : `${i === 0 ? '' : '.'}${String(k)}`))
    .join('');
}

/** The line:col of the deepest node of `keyPath` that exists in the document. */
function where(doc: Document, lines: LineCounter, keyPath: readonly PropertyKey[]): string {
  if (!isDocument(doc)) return '1:1';
  for (let depth = keyPath.length; depth >= 0; depth--) {
    const sub = keyPath.slice(0, depth) as (string | number)[];
    const node = (depth === 0 ? doc.contents : doc.getIn(sub, true)) as YamlNode | null | undefined;
    const keyNode = depth > 0 ? keyNodeAt(doc, sub) : undefined;
    const range = keyNode?.range ?? node?.range;
    if (range) {
      const pos = lines.linePos(range[0]);
      return `${pos.line}:${pos.col}`;
    }
  }
  return '1:1';
}

function keyNodeAt(doc: Document, keyPath: (string | number)[]): YamlNode | undefined {
  const parent = keyPath.length === 1 ? doc.contents : doc.getIn(keyPath.slice(0, -1), true);
  const last = keyPath[keyPath.length - 1];
  if (parent && typeof parent === 'object' && 'items' in parent && Array.isArray(parent.items)) {
    for (const item of parent.items as unknown[]) {
      if (item && typeof item === 'object' && 'key' in item) {
        const key = (item as { key: unknown }).key;
        const keyValue =
          key && typeof key === 'object' && 'value' in key ? (key as { value: unknown }).value : key;
        if (keyValue === last) return key as YamlNode;
      }
    }
  }
  return undefined;
}

function expectedKeys(keyPath: readonly PropertyKey[]): string {
  const parent = keyPath.slice(0, -1).filter((k) => typeof k === 'string');
  const last = parent[parent.length - 1];
  switch (last) {
    case undefined:
      return 'hosts, policies';
    case 'hosts':
      return 'id, name, benches';
    case 'benches':
      return 'id, name, policy, autoStart, slots';
    case 'slots':
      return 'port, label, grid, autoStart';
    case 'grid':
      return 'row, col';
    case 'autoStart':
      return 'firmware, behavior';
    case 'rules':
      return FAILURE_CLASSES.join(', ');
    default:
      if (parent[0] === 'policies' && parent.length === 2) return 'extends, quarantineAfterPhones, rules';
      if (parent[0] === 'policies') return 'action, maxAttempts, backoffMs';
      return 'see docs/configuration.md';
  }
}
