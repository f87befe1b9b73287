export * from './vocabulary';
export * from './ids';
export * from './errors';
export * from './retry-policy';
export * from './random-access';
export * from './dfu-buttons';
export * from './restore-event';
