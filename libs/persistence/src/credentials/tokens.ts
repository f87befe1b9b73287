// Bearer tokens: 32 random bytes shown once; the database keeps their SHA-256 (a token has full
// entropy, so a fast hash is enough, and lookups stay one indexed query).
import { createHash, randomBytes } from 'node:crypto';

const PREFIX = 'bench_';

export function newToken(): string {
  return `${PREFIX}${randomBytes(32).toString('base64url')}`;
}

export function tokenHash(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/** The token of an `Authorization: Bearer …` header, or undefined. */
export function bearerToken(header: string | undefined): string | undefined {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  return match?.[1];
}
