// Options shared by the verbs that run a simulated bench (`bench sim`, `bench restore --simulate`).
import { existsSync } from 'node:fs';
import { FAULT_PROFILES, loadFaultScript, type BootStage, type FaultRule } from '@bench/device-sim';

export const START_MODES: Record<string, BootStage> = {
  normal: 'ios',
  recovery: 'iboot',
  dfu: 'secure-rom',
  restore: 'restore-ramdisk',
};

export class SimOptionError extends Error {}

export function startStage(mode: string | undefined): BootStage {
  if (mode === undefined) return 'ios';
  const stage = START_MODES[mode];
  if (!stage)
    throw new SimOptionError(
      `--start-mode must be one of ${Object.keys(START_MODES).join(', ')}, not '${mode}'`,
    );
  return stage;
}

/** `--faults FILE|PROFILE`: a fault script file, or the name of a profile such as shop-floor. */
export function faultOption(value: string | undefined): { faults?: FaultRule[]; faultProfile?: string } {
  if (value === undefined) return {};
  if (FAULT_PROFILES[value]) return { faultProfile: value };
  if (existsSync(value)) return { faults: loadFaultScript(value) };
  throw new SimOptionError(
    `--faults '${value}' is neither a file nor a profile (${Object.keys(FAULT_PROFILES).join(', ')})`,
  );
}

/** `tcp:HOST:PORT` or `unix:PATH` (the same forms usbmuxd's clients understand, lower-cased). */
export function usbmuxdListenOption(value: string | undefined): {
  tcp?: { host: string; port: number };
  unixPath?: string;
} {
  if (value === undefined) return { tcp: { host: '127.0.0.1', port: 27015 } };
  const tcp = /^tcp:(.+):(\d{1,5})$/i.exec(value);
  if (tcp) return { tcp: { host: tcp[1], port: Number(tcp[2]) } };
  const unix = /^unix:(.+)$/i.exec(value);
  if (unix) return { unixPath: unix[1] };
  throw new SimOptionError(`--usbmuxd must be tcp:HOST:PORT or unix:PATH, not '${value}'`);
}

export function hostPortOption(value: string | undefined, name: string): { host: string; port: number } {
  if (value === undefined) return { host: '127.0.0.1', port: 0 };
  const match = /^(.+):(\d{1,5})$/.exec(value);
  if (!match) throw new SimOptionError(`${name} must be HOST:PORT, not '${value}'`);
  return { host: match[1], port: Number(match[2]) };
}

export function positiveNumber(value: string | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0)
    throw new SimOptionError(`${name} must be a positive number, not '${value}'`);
  return n;
}
