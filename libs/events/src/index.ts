export * from './record-events';
export * from './api-types';
export * from './socket-events';
export * from './api-routes';
