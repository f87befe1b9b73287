// The REST routes the server serves and the dashboard calls, with the role each needs. One list
// so the server's controllers, the auth-matrix test and the dashboard's client agree.
import type { Role } from './api-types';

export const API_PREFIX = '/api';

/** Least to most: each role may do what the roles before it may. */
export const ROLES = ['technician', 'manager', 'admin'] as const satisfies readonly Role[];

/** `public`: no credentials. Otherwise the least role that may call the route. */
export type RouteAccess = 'public' | Role;

export interface ApiRoute {
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  /** Path under {@link API_PREFIX}, with `:params`. */
  path: string;
  access: RouteAccess;
}

export const API_ROUTES = {
  login: { method: 'POST', path: '/auth/login', access: 'public' },
  logout: { method: 'POST', path: '/auth/logout', access: 'technician' },
  me: { method: 'GET', path: '/me', access: 'technician' },
  openapi: { method: 'GET', path: '/openapi.json', access: 'technician' },

  floor: { method: 'GET', path: '/floor', access: 'technician' },
  hosts: { method: 'GET', path: '/hosts', access: 'technician' },
  benches: { method: 'GET', path: '/benches', access: 'technician' },
  slots: { method: 'GET', path: '/slots', access: 'technician' },
  slot: { method: 'GET', path: '/slots/:slotId', access: 'technician' },
  slotHealth: { method: 'GET', path: '/slots/:slotId/health', access: 'technician' },
  runs: { method: 'GET', path: '/runs', access: 'technician' },
  run: { method: 'GET', path: '/runs/:runId', access: 'technician' },
  runEvents: { method: 'GET', path: '/runs/:runId/events', access: 'technician' },
  firmware: { method: 'GET', path: '/firmware', access: 'technician' },

  startRun: { method: 'POST', path: '/slots/:slotId/runs', access: 'technician' },
  cancelRun: { method: 'POST', path: '/runs/:runId/cancel', access: 'technician' },
  retryRun: { method: 'POST', path: '/runs/:runId/retry', access: 'technician' },
  pauseSlot: { method: 'POST', path: '/slots/:slotId/pause', access: 'technician' },
  resumeSlot: { method: 'POST', path: '/slots/:slotId/resume', access: 'technician' },
  powerCycleSlot: { method: 'POST', path: '/slots/:slotId/power-cycle', access: 'technician' },
  clearQuarantine: { method: 'POST', path: '/slots/:slotId/clear-quarantine', access: 'technician' },
  cableReplaced: { method: 'POST', path: '/slots/:slotId/cable-replaced', access: 'technician' },

  summary: { method: 'GET', path: '/summary', access: 'manager' },
  config: { method: 'GET', path: '/config', access: 'manager' },
  batches: { method: 'GET', path: '/batches', access: 'manager' },
  batch: { method: 'GET', path: '/batches/:batchId', access: 'manager' },
  createBatch: { method: 'POST', path: '/batches', access: 'manager' },
  pauseBatch: { method: 'POST', path: '/batches/:batchId/pause', access: 'manager' },
  resumeBatch: { method: 'POST', path: '/batches/:batchId/resume', access: 'manager' },
  cancelBatch: { method: 'POST', path: '/batches/:batchId/cancel', access: 'manager' },
  batchReportJson: { method: 'GET', path: '/batches/:batchId/report.json', access: 'manager' },
  batchReportCsv: { method: 'GET', path: '/batches/:batchId/report.csv', access: 'manager' },
  batchReportHtml: { method: 'GET', path: '/batches/:batchId/report.html', access: 'manager' },
  runCertificate: { method: 'GET', path: '/runs/:runId/certificate', access: 'technician' },

  users: { method: 'GET', path: '/users', access: 'admin' },
  createUser: { method: 'POST', path: '/users', access: 'admin' },
  updateUser: { method: 'PATCH', path: '/users/:userId', access: 'admin' },
  tokens: { method: 'GET', path: '/tokens', access: 'admin' },
  createToken: { method: 'POST', path: '/tokens', access: 'admin' },
  revokeToken: { method: 'DELETE', path: '/tokens/:tokenId', access: 'admin' },
} as const satisfies Record<string, ApiRoute>;

export type ApiRouteName = keyof typeof API_ROUTES;

const ROLE_RANK: Record<Role, number> = { technician: 1, manager: 2, admin: 3 };

/** Whether a user with `role` may call a route needing `access` (roles include the ones below). */
export function roleAllows(role: Role, access: RouteAccess): boolean {
  return access === 'public' || ROLE_RANK[role] >= ROLE_RANK[access];
}

/** Fill `:params` of a route path and prefix it: `apiPath('slot', { slotId })`. */
export function apiPath(name: ApiRouteName, params: Record<string, string> = {}): string {
  const filled = API_ROUTES[name].path.replace(/:(\w+)/g, (_match, key: string) => {
    const value = params[key];
    if (value === undefined) throw new Error(`route ${name} needs the parameter ${key}`);
    return encodeURIComponent(value);
  });
  return `${API_PREFIX}${filled}`;
}

/** Request bodies of the action routes (the server validates them; unknown fields are rejected). */
export interface LoginRequest {
  username: string;
  password: string;
}
export interface StartRunRequest {
  firmware?: string;
  behavior?: 'erase' | 'update';
  policy?: string;
}
export interface CancelRunRequest {
  reason?: string;
}
/** A batch's firmware: "latest" (the newest signed build for each model) or a build such as 22G100. */
export const FIRMWARE_SELECTOR = /^(latest|[0-9]{1,2}[A-Z][0-9]{1,5}[a-z]?)$/;

/**
 * A batch: restore the phones on some slots (or whole benches) to one firmware selector, now or
 * at `startAt`, with a retry policy of bench.config.yaml (e.g. `overnight`: more retries).
 */
export interface CreateBatchRequest {
  name: string;
  /** "latest" (the newest signed build for each model) or a build such as 22G100 (FIRMWARE_SELECTOR). */
  firmware: string;
  behavior: 'erase' | 'update';
  /** Slot ids; at least one of slotIds and benchIds. */
  slotIds?: string[];
  benchIds?: string[];
  /** ISO 8601 time to start; absent: now. */
  startAt?: string;
  /** A policy named in bench.config.yaml; absent: each bench's own. */
  policy?: string;
}
export interface CancelBatchRequest {
  reason?: string;
}
export interface CreateUserRequest {
  username: string;
  password: string;
  role: Role;
}
export interface UpdateUserRequest {
  role?: Role;
  disabled?: boolean;
  password?: string;
}
export interface CreateTokenRequest {
  name: string;
  userId?: string;
  expiresInDays?: number;
}
export interface CreateTokenResponse {
  id: string;
  name: string;
  token: string;
  expiresAt: string | null;
}
