// Fault scripts: `{slot or ECID, at stage or progress, fault}` entries, from a YAML/JSON file.
//   faults:
//     - { ecid: "0x1A2B3C4D5E6F70", at: { stage: send-filesystem, progress: 40 }, fault: cable-pull, replugAfterMs: 5000 }
//     - { slot: "1-1.3", at: { stage: send-ibec }, fault: hang }
//     - { slot: A3, fault: full-speed-link }          # no `at`: holds for the whole run
//     - { slot: "1-1.5", at: { stage: verify }, fault: "status:53" }
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { STAGES, type Stage } from '@bench/bench-domain';
import type { SimFault } from './fault-types';

const FAULT_NAME =
  /^(cable-pull|flaky-cable|battery-dies|hang|unsigned-build|corrupt-transfer|full-speed-link|over-current|status:\d{1,10})$/;

const EntrySchema = z
  .strictObject({
    ecid: z.union([z.string(), z.number()]).optional(),
    slot: z.string().min(1).optional(),
    at: z.strictObject({ stage: z.enum(STAGES), progress: z.number().min(0).max(100).optional() }).optional(),
    fault: z
      .string()
      .regex(
        FAULT_NAME,
        'expected one of cable-pull, flaky-cable, battery-dies, hang, status:N, unsigned-build, corrupt-transfer, full-speed-link, over-current',
      ),
    replugAfterMs: z.number().int().min(0).optional(),
    dropsPerMinute: z.number().positive().optional(),
    times: z.number().int().min(1).default(1),
  })
  .refine(
    (e) => e.ecid !== undefined || e.slot !== undefined,
    'each fault needs a slot (port path or label) or an ecid',
  );

const ScriptSchema = z.strictObject({ faults: z.array(EntrySchema).default([]) });

export interface FaultRule {
  ecid?: bigint;
  slot?: string;
  at?: { stage: Stage; progress?: number };
  fault: SimFault;
  times: number;
}

export class FaultScriptError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FaultScriptError';
  }
}

export function parseFaultName(
  name: string,
  extra: { replugAfterMs?: number; dropsPerMinute?: number } = {},
): SimFault {
  if (name.startsWith('status:')) return { kind: 'status', code: Number(name.slice('status:'.length)) };
  switch (name) {
    case 'cable-pull':
      return { kind: 'cable-pull', replugAfterMs: extra.replugAfterMs };
    case 'flaky-cable':
      return { kind: 'flaky-cable', dropsPerMinute: extra.dropsPerMinute };
    case 'battery-dies':
    case 'hang':
    case 'unsigned-build':
    case 'corrupt-transfer':
    case 'full-speed-link':
    case 'over-current':
      return { kind: name };
    default:
      throw new FaultScriptError(`unknown fault '${name}'`);
  }
}

export function parseFaultScript(text: string, source = 'fault script'): FaultRule[] {
  let raw: unknown;
  try {
    raw = parseYaml(text) ?? {};
  } catch (error) {
    throw new FaultScriptError(`${source}: invalid YAML/JSON: ${(error as Error).message.split('\n')[0]}`);
  }
  const parsed = ScriptSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new FaultScriptError(`${source}: ${issue.path.join('.') || '(top)'}: ${issue.message}`);
  }
  return parsed.data.faults.map((entry, index) => {
    let ecid: bigint | undefined;
    if (entry.ecid !== undefined) {
      try {
        ecid = BigInt(entry.ecid);
      } catch {
        throw new FaultScriptError(
          `${source}: faults.${index}.ecid: '${entry.ecid}' is not a number (use 0x… for hex)`,
        );
      }
    }
    return {
      ecid,
      slot: entry.slot,
      at: entry.at,
      fault: parseFaultName(entry.fault, entry),
      times: entry.times,
    };
  });
}

export function loadFaultScript(file: string): FaultRule[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new FaultScriptError(`${file}: cannot read: ${(error as Error).message}`);
  }
  return parseFaultScript(text, file);
}
