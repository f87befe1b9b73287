/** Nest injection tokens for the values every app gets at boot. */
export const BENCH_ENV = Symbol('BENCH_ENV');
export const BENCH_CONFIG = Symbol('BENCH_CONFIG');
export const LOGGER = Symbol('LOGGER');
export const APP_NAME = Symbol('APP_NAME');
/** Route metadata: answers without credentials (the server's auth guard honours it). */
export const PUBLIC_ROUTE = 'bench:public-route';
