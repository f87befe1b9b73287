import type { FailureClass } from '@bench/bench-domain';

/** `bench restore` exits with a code per failure class, so scripts can act on it. */
export const EXIT_CODES: Record<FailureClass | 'done' | 'usage', number> = {
  done: 0,
  unknown: 1,
  usage: 2,
  'transient-usb': 10,
  power: 11,
  'signing-refused': 12,
  'firmware-invalid': 13,
  stuck: 14,
  'device-hardware': 15,
  'host-setup': 16,
  cancelled: 130,
};
