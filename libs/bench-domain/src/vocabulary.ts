// The vocabulary of ../docs/architecture.md §2, as types. Names here are used in code, API, UI and docs.

export const DEVICE_MODES = ['normal', 'recovery', 'dfu', 'restore', 'port-dfu', 'wtf'] as const;
export type DeviceMode = (typeof DEVICE_MODES)[number];

export const STAGES = [
  'prepare',
  'enter-recovery',
  'send-ibss',
  'send-ibec',
  'boot-ramdisk',
  'restored-connect',
  'send-filesystem',
  'verify',
  'flash-firmware',
  'baseband',
  'finalize',
  'reboot',
] as const;
export type Stage = (typeof STAGES)[number];

export const FAILURE_CLASSES = [
  'transient-usb',
  'power',
  'signing-refused',
  'firmware-invalid',
  'stuck',
  'device-hardware',
  'host-setup',
  'cancelled',
  'unknown',
] as const;
export type FailureClass = (typeof FAILURE_CLASSES)[number];

export const SLOT_STATES = [
  'empty',
  'idle',
  'waiting-power',
  'queued',
  'restoring',
  'reconnecting',
  'retrying',
  'stuck',
  'bricked',
  'attention',
  'done',
  'quarantined',
] as const;
export type SlotState = (typeof SLOT_STATES)[number];

export const RESTORE_BEHAVIORS = ['erase', 'update'] as const;
export type RestoreBehavior = (typeof RESTORE_BEHAVIORS)[number];

export const RUN_STATES = ['queued', 'running', 'done', 'failed', 'cancelled'] as const;
export type RunState = (typeof RUN_STATES)[number];

export function isOneOf<T extends string>(values: readonly T[], value: unknown): value is T {
  return typeof value === 'string' && (values as readonly string[]).includes(value);
}

/**
 * Stages during which pulling the cable leaves the phone half-written: the restore ramdisk is
 * running and erasing, writing or flashing. Before them an interrupted attempt simply resumes;
 * from them on the phone needs a fresh restore from recovery or DFU.
 */
export const DO_NOT_UNPLUG_STAGES: readonly Stage[] = [
  'restored-connect',
  'send-filesystem',
  'verify',
  'flash-firmware',
  'baseband',
  'finalize',
];

export function unplugWouldHarm(state: SlotState, stage: string | undefined): boolean {
  const busy = state === 'restoring' || state === 'reconnecting';
  return busy && stage !== undefined && (DO_NOT_UNPLUG_STAGES as readonly string[]).includes(stage);
}
