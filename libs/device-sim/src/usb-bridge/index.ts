export * from './bridge-protocol';
export * from './sysfs-records';
export * from './usb-bridge';
