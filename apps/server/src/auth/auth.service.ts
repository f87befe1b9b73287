// Who is calling: users log in with a password and get a bearer token (a row in ApiToken, like
// the long-lived tokens an admin creates for scripts); every request and socket handshake
// presents one. Disabled users and expired tokens are refused.
import { Injectable } from '@nestjs/common';
import { ROLES, type LoginResponse, type Role, type UserView } from '@bench/events';
import {
  BenchDatabase,
  hashPassword,
  newToken,
  tokenHash,
  UserRepository,
  verifyPassword,
} from '@bench/persistence';

/** A login lasts a month: a wall screen must not log itself out overnight. */
const LOGIN_TTL_MS = 30 * 24 * 3_600_000;
/** lastUsedAt is written at most this often per token (not on every request). */
const TOUCH_EVERY_MS = 60_000;

export interface AuthUser {
  id: string;
  username: string;
  role: Role;
  tokenId: string;
}

function asRole(value: string): Role {
  // An unknown role in the database grants the least, never more.
  return (ROLES as readonly string[]).includes(value) ? (value as Role) : 'technician';
}

export function userView(user: { id: string; username: string; role: string; disabled: boolean }): UserView {
  return { id: user.id, username: user.username, role: asRole(user.role), disabled: user.disabled };
}

@Injectable()
export class AuthService {
  readonly users: UserRepository;
  private readonly touched = new Map<string, number>();
  private dummyHash?: Promise<string>;

  constructor(database: BenchDatabase) {
    this.users = new UserRepository(database);
  }

  /** undefined when the username or password is wrong (the caller does not say which). */
  async login(username: string, password: string): Promise<LoginResponse | undefined> {
    const user = await this.users.findByUsername(username);
    // Hash anyway when the user is unknown, so timing does not reveal which usernames exist.
    this.dummyHash ??= hashPassword('no such user');
    const valid = await verifyPassword(password, user?.passwordHash ?? (await this.dummyHash));
    if (!user || !valid || user.disabled) return undefined;
    const token = newToken();
    const expiresAt = new Date(Date.now() + LOGIN_TTL_MS);
    await this.users.createToken({ userId: user.id, name: 'login', tokenHash: tokenHash(token), expiresAt });
    return { token, user: userView(user), expiresAt: expiresAt.toISOString() };
  }

  async authenticate(token: string | undefined): Promise<AuthUser | undefined> {
    if (!token) return undefined;
    const row = await this.users.findToken(tokenHash(token));
    if (!row || row.user.disabled) return undefined;
    if (row.expiresAt && row.expiresAt.getTime() <= Date.now()) return undefined;
    this.touch(row.id);
    return { id: row.user.id, username: row.user.username, role: asRole(row.user.role), tokenId: row.id };
  }

  async logout(token: string): Promise<void> {
    await this.users.revokeTokenByHash(tokenHash(token));
  }

  async createUser(username: string, password: string, role: Role) {
    return this.users.create({ username, passwordHash: await hashPassword(password), role });
  }

  async setPassword(userId: string, password: string) {
    return this.users.update(userId, { passwordHash: await hashPassword(password) });
  }

  async createToken(userId: string, name: string, expiresInDays?: number) {
    const token = newToken();
    const expiresAt = expiresInDays ? new Date(Date.now() + expiresInDays * 86_400_000) : null;
    const row = await this.users.createToken({ userId, name, tokenHash: tokenHash(token), expiresAt });
    return { id: row.id, name: row.name, token, expiresAt: expiresAt?.toISOString() ?? null };
  }

  private touch(tokenId: string): void {
    const now = Date.now();
    if (now - (this.touched.get(tokenId) ?? 0) < TOUCH_EVERY_MS) return;
    this.touched.set(tokenId, now);
    void this.users.touchToken(tokenId, new Date(now)).catch(() => undefined);
  }
}
