// idevicerestore's error lines → stage and failure class, as a table that reads like the notes
// (restore-protocol.md §8.1, design.md §6). Each rule quotes the tool's wording without the
// "ERROR: " prefix (newer builds dropped it; log-line.ts strips it when present). Patterns are
// not anchored: wrappers and terminals glue other text in front (`Sending TSS request attempt
// 1... ERROR: Unable to send TSS request`).
import type { FailureClass, Stage } from '@bench/bench-domain';

/** What the parser knows when a rule fires: evidence that can change a line's meaning. */
export interface FailureContext {
  /** This run already found the device in some mode. */
  sawDevice: boolean;
  /** After bootx the device came back in recovery/DFU while idevicerestore waited for restore mode. */
  reappearedInBootMode: boolean;
}

export interface Classification {
  failureClass: FailureClass;
  why: string;
}

export interface FailureRule {
  id: string;
  pattern: RegExp;
  /** Stage of the failure; the current stage when absent. */
  stage?: Stage | ((match: RegExpExecArray) => Stage | undefined);
  /** The line proves the attempt got at least this far (a StatusMsg comes from restore mode). */
  minimumStage?: Stage;
  /** The line reports a message from the device (kept as evidence's last device message). */
  fromDevice?: boolean;
  classify: Classification | ((match: RegExpExecArray, context: FailureContext) => Classification);
  /**
   * Which line explains an attempt when several fire (the heaviest, the first among equals):
   * 30 a verdict from the device or the signing server, 25 a line that refines the error just
   * before it, 20 a specific error, 10 a consequence of an earlier error, 5 an error we do not
   * know.
   */
  weight: 30 | 25 | 20 | 15 | 10 | 5;
  statusCode?: (match: RegExpExecArray) => number | undefined;
}

export const VERDICT = 30;
export const REFINES = 25;
export const SPECIFIC = 20;
export const INCOMPLETE = 15;
export const CONSEQUENCE = 10;
export const UNRECOGNISED = 5;

/** StatusMsg codes design.md §6 treats as a broken device. */
export const HARDWARE_STATUS_CODES: ReadonlySet<number> = new Set([6, 27, 50, 51, 53, 1015]);

function bootComponentStage(component: string | undefined): Stage | undefined {
  if (component === undefined) return undefined;
  if (/^ibss$/i.test(component)) return 'send-ibss';
  if (/^ibec$/i.test(component)) return 'send-ibec';
  return 'boot-ramdisk';
}

function tssRefusal(status: number, message: string): Classification {
  return status === 94 || /not eligible|isn't eligible/i.test(message)
    ? {
        failureClass: 'signing-refused',
        why: `Apple's signing server refused this device and build (status ${status}: ${message.trim()}); the build is not signed for it`,
      }
    : {
        failureClass: 'unknown',
        why: `the signing server answered status ${status} (${message.trim()}), which is not the known refusal`,
      };
}

function statusVerdict(code: number, name: string): Classification {
  return HARDWARE_STATUS_CODES.has(code)
    ? {
        failureClass: 'device-hardware',
        why: `the device ended its restore with StatusMsg ${code} (${name}); design §6 treats it as a hardware fault: attach the device log and send it to repair`,
      }
    : {
        failureClass: 'unknown',
        why: `the device ended its restore with StatusMsg ${code} (${name}); read its log for the cause`,
      };
}

const USB_WHY =
  'the USB transfer to the device failed (cable, port, hub or host driver); re-attach and retry';

export const FAILURE_RULES: readonly FailureRule[] = [
  // ── verdicts from the signing server ────────────────────────────────────────────────────
  {
    id: 'tss-refused',
    pattern: /TSS request failed \(status=(\d+), message=([^)]*)\)/,
    classify: (m) => tssRefusal(Number(m[1]), m[2]),
    weight: VERDICT,
    statusCode: (m) => Number(m[1]),
  },
  {
    id: 'tss-server-returned',
    pattern: /TSS server returned: STATUS=(\d+)&MESSAGE=(.*)$/,
    classify: (m) => tssRefusal(Number(m[1]), m[2]),
    weight: VERDICT,
    statusCode: (m) => Number(m[1]),
  },
  // ── verdicts from the device (StatusMsg, BBUpdateStatusMsg) ─────────────────────────────
  {
    id: 'baseband-refused',
    fromDevice: true,
    pattern: /device didn't accept BasebandData/,
    stage: 'baseband',
    classify: {
      failureClass: 'device-hardware',
      why: 'the device rejected its baseband update; the device drives this step and the maintainers see it as a broken baseband (idevicerestore #138, #235)',
    },
    weight: VERDICT,
  },
  {
    id: 'status-verification-error',
    minimumStage: 'restored-connect',
    fromDevice: true,
    pattern: /Status: Verification Error/,
    classify: {
      failureClass: 'unknown',
      why: 'StatusMsg -1 (Verification Error): the device refused to verify something it was sent; public reports trace it to host builds, rejected tickets and baseband faults alike, so it gets one retry and then a human',
    },
    weight: VERDICT,
    statusCode: () => -1,
  },
  {
    id: 'status-disk-failure',
    minimumStage: 'restored-connect',
    fromDevice: true,
    pattern: /Status: Disk Failure/,
    classify: statusVerdict(6, 'Disk Failure'),
    weight: VERDICT,
    statusCode: () => 6,
  },
  {
    id: 'status-fail',
    minimumStage: 'restored-connect',
    fromDevice: true,
    pattern: /Status: Fail$/,
    classify: statusVerdict(14, 'Fail'),
    weight: VERDICT,
    statusCode: () => 14,
  },
  {
    id: 'status-mount-failed',
    minimumStage: 'restored-connect',
    fromDevice: true,
    pattern: /Status: Failed to mount filesystems/,
    classify: statusVerdict(27, 'Failed to mount filesystems'),
    weight: VERDICT,
    statusCode: () => 27,
  },
  {
    // 50 and 51 print the same text; 51 is recorded.
    id: 'status-sep-failed',
    minimumStage: 'restored-connect',
    fromDevice: true,
    pattern: /Status: Failed to load SEP Firmware/,
    classify: statusVerdict(51, 'Failed to load SEP Firmware'),
    weight: VERDICT,
    statusCode: () => 51,
  },
  {
    id: 'status-fdr-failed',
    minimumStage: 'restored-connect',
    fromDevice: true,
    pattern: /Status: Failed to recover FDR data/,
    stage: 'finalize',
    classify: statusVerdict(53, 'Failed to recover FDR data'),
    weight: VERDICT,
    statusCode: () => 53,
  },
  {
    id: 'status-xgold-baseband',
    minimumStage: 'restored-connect',
    fromDevice: true,
    pattern: /Status: X-Gold Baseband Update Failed/,
    stage: 'baseband',
    classify: statusVerdict(1015, 'X-Gold Baseband Update Failed'),
    weight: VERDICT,
    statusCode: () => 1015,
  },
  {
    id: 'status-unhandled',
    minimumStage: 'restored-connect',
    fromDevice: true,
    pattern: /Unhandled status message \((\d+)\)/,
    classify: (m) => statusVerdict(Number(m[1]), 'no name in idevicerestore'),
    weight: VERDICT,
    statusCode: (m) => Number(m[1]),
  },
  // ── lines that refine the error printed just before them ────────────────────────────────
  {
    id: 'reconnected-in-boot-mode',
    pattern: /Device reconnected in (\w+) mode, most likely image personalization failed/i,
    stage: 'boot-ramdisk',
    classify: {
      failureClass: 'stuck',
      why: 'after bootx the device came back in recovery instead of restore mode (ramdisk or kernel rejected); design §6: a device back in recovery after bootx is stuck, retry from recovery',
    },
    weight: REFINES,
  },
  {
    id: 'usbmuxd-hint',
    pattern: /make sure that usbmuxd is running/i,
    stage: 'boot-ramdisk',
    classify: (_m, context) =>
      context.reappearedInBootMode
        ? {
            failureClass: 'stuck',
            why: 'the usbmuxd hint is generic: the log shows the device re-appearing in recovery after bootx, so the ramdisk did not boot (stuck, design §6)',
          }
        : {
            failureClass: 'host-setup',
            why: 'the device never appeared in restore mode through usbmuxd; missing or outdated usbmuxd is the usual cause (idevicerestore #320, #696)',
          },
    weight: REFINES,
  },
  // ── the boot chain ──────────────────────────────────────────────────────────────────────
  {
    id: 'discover-mode',
    pattern: /Unable to discover device mode/,
    stage: 'prepare',
    classify: (_m, context) =>
      context.sawDevice
        ? {
            failureClass: 'transient-usb',
            why: 'the device was seen earlier in this run and then vanished from USB',
          }
        : {
            failureClass: 'host-setup',
            why: 'no device in any mode: missing USB permission (run as root / udev rule), usbmuxd not running, or no device attached (idevicerestore #32, #303)',
          },
    weight: SPECIFIC,
  },
  {
    id: 'libusb-access',
    pattern: /LIBUSB_ERROR_ACCESS/,
    stage: 'prepare',
    classify: {
      failureClass: 'host-setup',
      why: 'libusb may not open the device: this host lacks the udev rule or permission for Apple USB devices',
    },
    weight: SPECIFIC,
  },
  {
    id: 'discover-type',
    pattern: /Unable to discover device type/,
    stage: 'prepare',
    classify: {
      failureClass: 'host-setup',
      why: "the device's model is not in this host's libirecovery table; the host's tools are too old for it",
    },
    weight: SPECIFIC,
  },
  {
    id: 'enter-recovery-failed',
    pattern: /Failed to enter recovery mode|Unable to connect to device in recovery mode/i,
    stage: 'enter-recovery',
    classify: {
      failureClass: 'transient-usb',
      why: `the device did not come back in recovery mode; ${USB_WHY}`,
    },
    weight: SPECIFIC,
  },
  {
    id: 'component-upload-failed',
    pattern: /Unable to send (\S+) component: (.*)$/,
    stage: (m) => bootComponentStage(m[1]),
    classify: { failureClass: 'transient-usb', why: USB_WHY },
    weight: SPECIFIC,
  },
  {
    id: 'did-not-disconnect',
    pattern: /Device did not disconnect\. (?:Possibly invalid (\S+?)\.|Port DFU failed)/,
    stage: (m) => bootComponentStage(m[1]) ?? 'prepare',
    classify: {
      failureClass: 'stuck',
      why: 'the device never left the stage: it did not run the image it was sent (invalid personalisation or a wedged bootloader); reset it and retry, then ask for DFU',
    },
    weight: SPECIFIC,
  },
  {
    id: 'did-not-reconnect',
    pattern:
      /Device did not reconnect in (?:DFU or recovery|recovery|DFU) mode\. (?:Possibly invalid (\S+?)\.|Port DFU failed)/,
    stage: (m) => bootComponentStage(m[1]) ?? 'prepare',
    classify: {
      failureClass: 'transient-usb',
      why: 'the device left the bus and was not seen again in time (re-enumeration through the hub or host driver; idevicerestore #324, #563)',
    },
    weight: SPECIFIC,
  },
  {
    id: 'failed-to-place-in-restore-mode',
    pattern: /Failed to place device in restore mode/,
    stage: 'boot-ramdisk',
    classify: {
      failureClass: 'stuck',
      why: 'the device stayed in recovery after bootx (design §6: stuck after bootx)',
    },
    weight: SPECIFIC,
  },
  {
    id: 'failed-to-enter-restore-mode',
    pattern: /Device failed to enter restore mode/,
    stage: 'boot-ramdisk',
    classify: {
      failureClass: 'stuck',
      why: 'no restore-mode device appeared within idevicerestore’s wait after bootx (design §6: stuck after bootx)',
    },
    weight: SPECIFIC,
  },
  // ── the signing request ─────────────────────────────────────────────────────────────────
  {
    id: 'tss-unreachable',
    pattern: /Unable to send TSS request/,
    classify: {
      failureClass: 'host-setup',
      why: 'no answer from the signing server: network, proxy or a blocked gs.apple.com on this host (maintainer in idevicerestore #711)',
    },
    weight: SPECIFIC,
  },
  {
    id: 'baseband-tss-unreachable',
    pattern: /Unable to fetch Baseband TSS/,
    stage: 'baseband',
    classify: {
      failureClass: 'host-setup',
      why: 'no answer from the signing server for the baseband ticket (network)',
    },
    weight: SPECIFIC,
  },
  {
    id: 'nonce-missing',
    pattern: /Unable to find required ApNonce in parameters|Unable to get nonce from device/,
    classify: { failureClass: 'unknown', why: 'the device gave no ApNonce for the signing request' },
    weight: SPECIFIC,
  },
  // ── the firmware file ───────────────────────────────────────────────────────────────────
  {
    id: 'no-build-identity',
    pattern: /Unable to find (?:a matching build identity|any build identities|build identities node)/,
    stage: 'prepare',
    classify: {
      failureClass: 'firmware-invalid',
      why: 'the IPSW has no build identity for this device and restore type (wrong IPSW, or beta variant names; idevicerestore #463)',
    },
    weight: SPECIFIC,
  },
  {
    id: 'firmware-unusable',
    pattern:
      /Firmware file might be corrupt|Could not make sure this firmware is suitable|Could not find all required components in IPSW|Unable to extract (?:filesystem|component|BuildManifest|Restore\.plist|\S+ from)|Unable to get path for component|Unable to find component node for|checksum mismatch|Checksum does not match/i,
    classify: {
      failureClass: 'firmware-invalid',
      why: 'the IPSW is corrupt, incomplete or not for this device; re-download it once',
    },
    weight: SPECIFIC,
  },
  {
    id: 'host-disk-or-download',
    pattern: /No space left on device|Unable to open output file|Download from \S+ failed/,
    classify: {
      failureClass: 'host-setup',
      why: 'the host could not write or download the firmware (disk space, permissions or network)',
    },
    weight: SPECIFIC,
  },
  // ── restore mode ────────────────────────────────────────────────────────────────────────
  {
    id: 'restored-unreachable',
    pattern: /Unable to (?:connect to|open) device in restore mode|Unable to connect to restored, error=/,
    stage: 'restored-connect',
    classify: { failureClass: 'transient-usb', why: `restored could not be reached over usbmux; ${USB_WHY}` },
    weight: SPECIFIC,
  },
  {
    id: 'asr-transfer-failed',
    pattern:
      /Unable to send data to ASR|Unable to receive data from ASR|ASR was unable to validate the filesystem|Unable to connect to ASR|Unable to send payload to ASR|Unable to send filesystem payload/,
    stage: 'send-filesystem',
    classify: {
      failureClass: 'transient-usb',
      why: 'the filesystem stream to ASR broke: the device dropped or rebooted mid-transfer (idevicerestore #619, #759)',
    },
    weight: SPECIFIC,
  },
  {
    id: 'restored-connection-lost',
    minimumStage: 'restored-connect',
    pattern: /Could not read data \((-?\d+)\)\. Aborting/,
    classify: {
      failureClass: 'transient-usb',
      why: 'the restored connection was lost (device rebooted, crashed or was unplugged); retry on re-attach',
    },
    weight: SPECIFIC,
  },
  {
    id: 'nor-flash-skipped',
    pattern: /Not sending NORData\.\.\. Quitting/,
    stage: 'flash-firmware',
    classify: {
      failureClass: 'unknown',
      why: 'idevicerestore stopped before flashing firmware (-x); the restore is incomplete although it prints DONE',
    },
    weight: INCOMPLETE,
  },
  // ── consequences: printed after the error that explains them ──────────────────────────
  {
    id: 'consequence',
    pattern:
      /Unable to (?:successfully )?restore device|Unable to place device into (?:recovery|restore) mode|Unable to get SHSH blobs|Unable to send (?:iBSS|iBEC|NOR ?data|baseband data|filesystem|RootTicket|kernelcache|DeviceTree)\b|idevicerestore_start result:/i,
    classify: { failureClass: 'unknown', why: 'a follow-up line; the line that explains it came earlier' },
    weight: CONSEQUENCE,
  },
];

/**
 * Error lines that are not failures: the FDR helper reports its own trouble, and a restore
 * succeeds without it (restore-protocol.md §8.1, "secondary"; idevicerestore-1.0.0 note §6).
 */
export const SECONDARY_ERRORS: readonly RegExp[] = [
  /Unable to (?:connect to|receive message from) FDR/,
  /Failed to start FDR/,
  /FDR \S+ Unable to receive proxy payload/,
];

/** An `ERROR:` line no rule knows. */
export const UNRECOGNISED_ERROR: Classification = {
  failureClass: 'unknown',
  why: 'an error line this parser has no rule for',
};
