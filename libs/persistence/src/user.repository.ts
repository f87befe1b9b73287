// Users and their API tokens. Only hashes are stored: the password's (scrypt, by the caller) and
// the token's (SHA-256, by the caller); a database leak reveals no usable credential.
import type { BenchDatabase } from './bench-database';
import { DuplicateRecordError, prismaCode, PrismaErrorCode } from './errors';

export interface NewUser {
  username: string;
  passwordHash: string;
  role: string;
}

export class UserRepository {
  constructor(private readonly db: BenchDatabase) {}

  async create(user: NewUser) {
    try {
      return await this.db.prisma.user.create({ data: user });
    } catch (error) {
      if (prismaCode(error) === PrismaErrorCode.UniqueViolation)
        throw new DuplicateRecordError(`a user named ${user.username}`);
      throw error;
    }
  }

  findByUsername(username: string) {
    return this.db.prisma.user.findUnique({ where: { username } });
  }

  find(id: string) {
    return this.db.prisma.user.findUnique({ where: { id } });
  }

  list() {
    return this.db.prisma.user.findMany({ orderBy: { username: 'asc' } });
  }

  count() {
    return this.db.prisma.user.count();
  }

  update(id: string, changes: { role?: string; disabled?: boolean; passwordHash?: string }) {
    return this.db.prisma.user.update({ where: { id }, data: changes });
  }

  createToken(token: { userId: string; name: string; tokenHash: string; expiresAt: Date | null }) {
    return this.db.prisma.apiToken.create({ data: token });
  }

  /** The token with its user, when it exists (expiry and disabled users are the caller's call). */
  findToken(tokenHash: string) {
    return this.db.prisma.apiToken.findUnique({ where: { tokenHash }, include: { user: true } });
  }

  async touchToken(id: string, at: Date): Promise<void> {
    await this.db.prisma.apiToken.updateMany({ where: { id }, data: { lastUsedAt: at } });
  }

  listTokens() {
    return this.db.prisma.apiToken.findMany({
      orderBy: { createdAt: 'desc' },
      include: { user: { select: { username: true } } },
    });
  }

  /** Deletes a token; returns whether it existed. */
  async revokeToken(id: string): Promise<boolean> {
    const result = await this.db.prisma.apiToken.deleteMany({ where: { id } });
    return result.count > 0;
  }

  async revokeTokenByHash(tokenHash: string): Promise<void> {
    await this.db.prisma.apiToken.deleteMany({ where: { tokenHash } });
  }
}
