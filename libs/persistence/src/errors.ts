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

/** Prisma codes that say the database cannot be reached now, not that the request was wrong. */
const UNREACHABLE_CODES = new Set(['P1001', 'P1002', 'P1008', 'P1011', 'P1017', 'P2024', 'P2037']);
/** The same, as a driver adapter reports it (DriverAdapterError's cause). */
const UNREACHABLE_KINDS = new Set([
  'DatabaseNotReachable',
  'ConnectionClosed',
  'SocketTimeout',
  'TlsConnectionError',
  'TooManyConnections',
]);

function adapterErrorKind(error: unknown): string | undefined {
  if (!error || typeof error !== 'object') return undefined;
  const direct = 'cause' in error ? (error as { cause?: { kind?: unknown } }).cause?.kind : undefined;
  const meta =
    'meta' in error
      ? (error as { meta?: { driverAdapterError?: { cause?: { kind?: unknown } } } }).meta
      : undefined;
  const kind = meta?.driverAdapterError?.cause?.kind ?? direct;
  return typeof kind === 'string' ? kind : undefined;
}

/** Whether `error` means the database is unreachable (down, connection lost, pool exhausted). */
export function isDatabaseUnavailable(error: unknown): boolean {
  const code = prismaCode(error);
  if (code !== undefined && UNREACHABLE_CODES.has(code)) return true;
  const kind = adapterErrorKind(error);
  return kind !== undefined && UNREACHABLE_KINDS.has(kind);
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
