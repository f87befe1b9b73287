// Waiting for a device to arrive or leave, driven by the bus's hotplug events (no polling).
import type { UsbBus, UsbDeviceInfo } from '../bus/usb-bus';
import { abortError } from './abort';
import { DeviceWaitTimeoutError } from './iboot-errors';

export type DevicePredicate = (device: UsbDeviceInfo) => boolean;

interface Waiter<T> {
  settle(value: T): void;
  fail(error: unknown): void;
}

/** Runs `start` with a timeout and an abort signal; every exit path cleans up. */
function waitFor<T>(
  timeoutMs: number,
  signal: AbortSignal | undefined,
  timeoutMessage: string,
  start: (waiter: Waiter<T>) => () => void,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    if (signal?.aborted) return reject(abortError(signal));
    // `start` may settle before it returns its unsubscribe function.
    const subscription: { stop?: () => void } = {};
    let done = false;
    const finish = () => {
      done = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      subscription.stop?.();
    };
    const waiter: Waiter<T> = {
      settle: (value) => {
        if (done) return;
        finish();
        resolve(value);
      },
      fail: (error) => {
        if (done) return;
        finish();
        reject(error);
      },
    };
    const onAbort = () => signal && waiter.fail(abortError(signal));
    const timer = setTimeout(() => waiter.fail(new DeviceWaitTimeoutError(timeoutMessage)), timeoutMs);
    signal?.addEventListener('abort', onAbort, { once: true });
    subscription.stop = start(waiter);
    if (done) subscription.stop();
  });
}

/** Resolves with the first device (present now or attaching later) that matches. */
export function waitForDevice(
  bus: UsbBus,
  predicate: DevicePredicate,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<UsbDeviceInfo> {
  return waitFor(timeoutMs, signal, `no matching device appeared within ${timeoutMs} ms`, (waiter) => {
    // Subscribe before listing, so an attach between the two is not missed.
    const unwatch = bus.watch((event) => {
      if (event.type === 'attach' && predicate(event.device)) waiter.settle(event.device);
    });
    bus.list().then((devices) => {
      const match = devices.find(predicate);
      if (match) waiter.settle(match);
    }, waiter.fail);
    return unwatch;
  });
}

/** Resolves when `device` (this enumeration) has left the bus. */
export function waitForDetach(
  bus: UsbBus,
  device: UsbDeviceInfo,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<void> {
  return waitFor<void>(
    timeoutMs,
    signal,
    `${device.portPath} did not disconnect within ${timeoutMs} ms`,
    (waiter) => {
      const unwatch = bus.watch((event) => {
        if (event.type === 'detach' && event.device.id === device.id) waiter.settle();
      });
      bus.list().then((devices) => {
        if (!devices.some((d) => d.id === device.id)) waiter.settle();
      }, waiter.fail);
      return unwatch;
    },
  );
}
