/** Prisma error codes the application handles (https://www.prisma.io/docs/orm/reference/error-reference). */
export const PrismaErrorCode = {
  UniqueViolation: 'P2002',
  NotFound: 'P2025',
  WriteConflict: 'P2034',
} as const;

export class RecordNotFoundError extends Error {
  constructor(what: string) {
    super(`${what} not found`);
    this.name = 'RecordNotFoundError';
  }
}

export class DuplicateRecordError extends Error {
  constructor(what: string) {
    super(`${what} already exists`);
    this.name = 'DuplicateRecordError';
  }
}

export function prismaCode(error: unknown): string | undefined {
  if (error && typeof error === 'object' && 'code' in error && typeof error.code === 'string')
    return error.code;
  return undefined;
}

/** Runs a write and turns Prisma's unique/not-found errors into domain errors. */
export async function mapPrismaErrors<T>(what: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    const code = prismaCode(error);
    if (code === PrismaErrorCode.UniqueViolation) throw new DuplicateRecordError(what);
    if (code === PrismaErrorCode.NotFound) throw new RecordNotFoundError(what);
    throw error;
  }
}
