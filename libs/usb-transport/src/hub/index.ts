export * from './hub-codec';
export * from './hub-port-controller';
