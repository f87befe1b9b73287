export * from './config-error';
export * from './env';
export * from './bench-config';
