export * from './iboot-serial';
export * from './iboot-modes';
export * from './iboot-requests';
export * from './dfu';
export * from './recovery-upload';
export * from './usb-string-descriptor';
