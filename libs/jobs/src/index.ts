export * from './redis-connection';
export * from './queue-names';
export * from './job-contract';
export * from './event-stream';
export * from './live-state';
export * from './restore-queues';
export * from './live-feed';
export * from './agent-commands';
