export * from './usb-module';
export * from './libusb-paths';
export * from './libusb-errors';
export * from './libusb-handle';
export * from './libusb-bus';
