// The typed event stream of one restore attempt, the same for every engine driver (native and
// idevicerestore). Defined here, with the vocabulary, because it crosses every boundary: the
// engine emits it, the agent sends it on the event stream, the recorder and the dashboard read it.
import type { FailureEvidence } from './errors';
import type { DeviceMode, FailureClass, Stage } from './vocabulary';

export type RestoreEvent =
  /** A stage begins (the device was found in `mode` first). */
  | { type: 'stage'; stage: Stage; mode?: DeviceMode; at: number }
  /**
   * Progress within the current stage. `percent` is the stage's own progress (0–100);
   * byte counts for uploads and the filesystem; the device's ProgressMsg operation when it
   * reports one; `etaSeconds` when the rate is known.
   */
  | {
      type: 'progress';
      stage: Stage;
      percent: number;
      bytesSent?: number;
      bytesTotal?: number;
      deviceOperation?: { code: number; name: string; percent?: number };
      etaSeconds?: number;
      at: number;
    }
  /** The device moved (re-enumerated) or was found where it is. */
  | {
      type: 'device';
      mode: DeviceMode;
      ecid: string;
      portPath?: string;
      /** The phone's serial number when this sighting told it (recovery's SRNM). */
      serialNumber?: string;
      at: number;
    }
  /** The firmware this attempt installs (known once the IPSW is chosen and opened). */
  | { type: 'firmware'; version: string; build: string; at: number }
  /** The phone's battery, when it can be read (normal mode, paired). */
  | { type: 'battery'; percent: number; charging: boolean; at: number }
  /** Something worth telling a technician that is not a failure (full-speed link, low battery…). */
  | { type: 'warning'; stage?: Stage; message: string; at: number }
  /** A line of device-side output (iBoot console, restored log, checkpoint). */
  | { type: 'device-log'; stage?: Stage; text: string; at: number }
  /** The attempt ended in a classified failure. */
  | { type: 'failed'; failureClass: FailureClass; message: string; evidence: FailureEvidence; at: number }
  /** The attempt ended with the phone in normal mode on the target build. */
  | { type: 'done'; productVersion?: string; buildVersion?: string; at: number };
