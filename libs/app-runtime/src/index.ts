export * from './tokens';
export * from './supervisor-protocol';
export * from './health.service';
export * from './health.controller';
export * from './runtime.module';
export * from './boot';
export * from './paths';
