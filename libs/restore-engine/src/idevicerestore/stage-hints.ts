// idevicerestore's progress lines → the engine stage they show, as a table. Wording from
// idevicerestore 1.0.0 and current upstream (idevicerestore.c, dfu.c, recovery.c, restore.c).
import { STAGES, type Stage } from '@bench/bench-domain';

export interface StageHint {
  id: string;
  pattern: RegExp;
  stage: Stage | ((match: RegExpExecArray) => Stage | undefined);
  /**
   * Move only forward to this stage: for lines that also appear later in a restore (a RootTicket
   * request proves restore mode, but must not pull a later stage back).
   */
  advanceOnly?: boolean;
}

/** Boot-chain uploads print `Sending <component> (<n> bytes)...`; restore-mode sends say "now". */
export const BOOT_UPLOAD = /Sending (\S+?) ?\((\d+) bytes\)\.\.\./;

function uploadStage(component: string): Stage | undefined {
  if (/^ibss$/i.test(component)) return 'send-ibss';
  if (/^ibec$/i.test(component)) return 'send-ibec';
  // the ticket and DFU's generic "data" go with whatever stage is under way
  if (/^(APTicket|data)$/i.test(component)) return undefined;
  return 'boot-ramdisk';
}

export const STAGE_HINTS: readonly StageHint[] = [
  { id: 'enter-recovery', pattern: /Entering recovery mode\.\.\./, stage: 'enter-recovery' },
  {
    id: 'boot-component',
    pattern: /(?:Personalizing IMG[34] component|Extracting) (iBSS|iBEC)\b/,
    stage: (m) => uploadStage(m[1]),
  },
  { id: 'boot-upload', pattern: BOOT_UPLOAD, stage: (m) => uploadStage(m[1]) },
  { id: 'boot-logo', pattern: /^Sending (?:RestoreLogo|AppleLogo)\.\.\.$/, stage: 'boot-ramdisk' },
  { id: 'recovery-environment', pattern: /^Recovery Mode Environment:/, stage: 'boot-ramdisk' },
  {
    id: 'waiting-for-restore-mode',
    pattern: /Waiting for device to enter restore mode/,
    stage: 'boot-ramdisk',
    advanceOnly: true,
  },
  {
    id: 'restored-connect',
    pattern:
      /About to restore device|^Connecting now\.\.\.|has successfully entered restore mode|Connected to com\.apple\.mobile\.restored/,
    stage: 'restored-connect',
  },
  {
    id: 'root-ticket',
    pattern: /(?:About to send|Sending) RootTicket/,
    stage: 'restored-connect',
    advanceOnly: true,
  },
  {
    id: 'filesystem',
    pattern: /About to send filesystem|Sending filesystem now|^Connected to ASR$|^Validating the filesystem$/,
    stage: 'send-filesystem',
  },
  { id: 'nor-data', pattern: /(?:About to send|Sending) NORData/, stage: 'flash-firmware' },
  { id: 'fud-data', pattern: /About to send (?:FUD data|FUDImageData)/, stage: 'flash-firmware' },
  {
    id: 'baseband-data',
    pattern: /About to send BasebandData|Sending Baseband TSS request|Sending BasebandData now/,
    stage: 'baseband',
  },
  { id: 'restore-finished', pattern: /Status: Restore Finished/, stage: 'finalize' },
];

/**
 * `-P` steps (idevicerestore.h RESTORE_STEP_*): DETECT 0, PREPARE 1, UPLOAD_FS 2, VERIFY_FS 3,
 * FLASH_FW 4, FLASH_BB 5, FUD 6, and since 2024 UPLOAD_IMG 7. DETECT and PREPARE span the whole
 * boot chain and carry no stage of their own.
 */
export const PLAIN_PROGRESS_STEPS: Readonly<Record<number, Stage | undefined>> = {
  2: 'send-filesystem',
  3: 'verify',
  4: 'flash-firmware',
  5: 'baseband',
  6: 'flash-firmware',
  7: 'send-filesystem',
};

export function stageIndex(stage: Stage): number {
  return STAGES.indexOf(stage);
}
