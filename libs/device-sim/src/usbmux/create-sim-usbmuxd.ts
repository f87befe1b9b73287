// The usual endpoint: lockdownd for phones running iOS, restored (with ASR and FDR) for phones
// in the restore ramdisk.
import { LockdownPersonality, type LockdownOptions } from '../lockdownd/lockdownd';
import { RestoredPersonality, type RestoredOptions } from '../restored/restored';
import { SimUsbmuxd, type SimUsbmuxdOptions } from './sim-usbmuxd';

export interface CreateSimUsbmuxdOptions extends Omit<SimUsbmuxdOptions, 'personalities'> {
  lockdown?: LockdownOptions;
  restored?: RestoredOptions;
}

export function createSimUsbmuxd(options: CreateSimUsbmuxdOptions = {}): SimUsbmuxd {
  const { lockdown, restored, ...rest } = options;
  return new SimUsbmuxd({
    ...rest,
    personalities: {
      ios: new LockdownPersonality(lockdown),
      'restore-ramdisk': new RestoredPersonality(restored),
    },
  });
}
