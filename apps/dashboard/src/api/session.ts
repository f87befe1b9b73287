// The login kept in localStorage: a wall screen stays logged in across reloads and power cuts
// until the token expires or the server refuses it.
import type { LoginResponse, UserView } from '@bench/events';

const KEY = 'bench.session';

export interface Session {
  token: string;
  user: UserView;
  expiresAt: string;
}

export function isSessionValid(value: unknown, now: number): value is Session {
  if (typeof value !== 'object' || value === null) return false;
  const session = value as Partial<Session>;
  if (typeof session.token !== 'string' || typeof session.user !== 'object' || session.user === null)
    return false;
  const expires = typeof session.expiresAt === 'string' ? Date.parse(session.expiresAt) : NaN;
  return Number.isNaN(expires) || expires > now;
}

export function loadSession(storage: Storage = localStorage, now = Date.now()): Session | null {
  try {
    const raw = storage.getItem(KEY);
    const parsed: unknown = raw ? JSON.parse(raw) : null;
    return isSessionValid(parsed, now) ? parsed : null;
  } catch {
    return null;
  }
}

export function saveSession(login: LoginResponse, storage: Storage = localStorage): Session {
  const session: Session = { token: login.token, user: login.user, expiresAt: login.expiresAt };
  storage.setItem(KEY, JSON.stringify(session));
  return session;
}

export function clearSession(storage: Storage = localStorage): void {
  storage.removeItem(KEY);
}
