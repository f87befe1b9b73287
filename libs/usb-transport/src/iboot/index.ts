export * from './iboot-errors';
export * from './iboot-client';
export * from './device-wait';
export * from './open-iboot-device';
