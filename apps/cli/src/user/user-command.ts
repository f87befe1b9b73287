// `bench user add|list|set-password`: accounts for the dashboard and API, straight in the
// database (the first admin has nobody to create them through the API). A password is read from
// --password, from stdin with --password-stdin, or generated and printed once.
import { randomBytes } from 'node:crypto';
import { loadEnv } from '@bench/config';
import { ROLES, type Role } from '@bench/events';
import {
  BenchDatabase,
  DuplicateRecordError,
  hashPassword,
  MIN_PASSWORD_LENGTH,
  UserRepository,
} from '@bench/persistence';
import { readStdinLine } from '../read-stdin';

export interface UserAddOptions {
  username: string;
  role: string;
  password?: string;
  passwordStdin?: boolean;
}

export interface Io {
  out: NodeJS.WritableStream;
  err: NodeJS.WritableStream;
  stdin: NodeJS.ReadableStream;
}

const defaultIo: Io = { out: process.stdout, err: process.stderr, stdin: process.stdin };

async function choosePassword(
  options: { password?: string; passwordStdin?: boolean },
  io: Io,
): Promise<{ password: string; generated: boolean } | string> {
  if (options.password !== undefined && options.passwordStdin)
    return 'give --password or --password-stdin, not both';
  const password = options.passwordStdin ? await readStdinLine(io.stdin) : options.password;
  if (password === undefined) return { password: randomBytes(12).toString('base64url'), generated: true };
  if (password.length < MIN_PASSWORD_LENGTH)
    return `the password must have at least ${MIN_PASSWORD_LENGTH} characters`;
  return { password, generated: false };
}

async function withUsers<T>(
  work: (users: UserRepository, database: BenchDatabase) => Promise<T>,
): Promise<T> {
  const env = loadEnv();
  const database = BenchDatabase.fromUrl(env.database.url, env.home);
  try {
    await database.migrate();
    return await work(new UserRepository(database), database);
  } finally {
    await database.close();
  }
}

export async function userAddCommand(options: UserAddOptions, io: Io = defaultIo): Promise<number> {
  if (!(ROLES as readonly string[]).includes(options.role)) {
    io.err.write(`bench user add: unknown role '${options.role}'; expected one of: ${ROLES.join(', ')}\n`);
    return 2;
  }
  if (!/^[A-Za-z0-9_.@-]{1,64}$/.test(options.username)) {
    io.err.write(`bench user add: username must be 1–64 letters, digits or _.@-\n`);
    return 2;
  }
  const chosen = await choosePassword(options, io);
  if (typeof chosen === 'string') {
    io.err.write(`bench user add: ${chosen}\n`);
    return 2;
  }
  return withUsers(async (users, database) => {
    try {
      await users.create({
        username: options.username,
        role: options.role as Role,
        passwordHash: await hashPassword(chosen.password),
      });
    } catch (error) {
      if (error instanceof DuplicateRecordError) {
        io.err.write(`bench user add: ${error.message} (use bench user set-password to change it)\n`);
        return 1;
      }
      throw error;
    }
    io.out.write(`created ${options.role} ${options.username} in ${database.describe()}\n`);
    if (chosen.generated)
      io.out.write(`password: ${chosen.password}\n(shown once; change it with bench user set-password)\n`);
    return 0;
  });
}

export async function userSetPasswordCommand(
  options: { username: string; password?: string; passwordStdin?: boolean },
  io: Io = defaultIo,
): Promise<number> {
  const chosen = await choosePassword(options, io);
  if (typeof chosen === 'string') {
    io.err.write(`bench user set-password: ${chosen}\n`);
    return 2;
  }
  return withUsers(async (users) => {
    const user = await users.findByUsername(options.username);
    if (!user) {
      io.err.write(`bench user set-password: no user ${options.username}\n`);
      return 1;
    }
    await users.update(user.id, { passwordHash: await hashPassword(chosen.password), disabled: false });
    io.out.write(`password of ${options.username} changed\n`);
    if (chosen.generated) io.out.write(`password: ${chosen.password}\n`);
    return 0;
  });
}

export async function userListCommand(options: { json?: boolean }, io: Io = defaultIo): Promise<number> {
  return withUsers(async (users) => {
    const rows = (await users.list()).map((u) => ({
      username: u.username,
      role: u.role,
      disabled: u.disabled,
    }));
    if (options.json) io.out.write(`${JSON.stringify(rows, null, 2)}\n`);
    else if (rows.length === 0) io.out.write('no users yet: bench user add --username NAME --role admin\n');
    else
      io.out.write(
        `${rows.map((u) => `${u.username.padEnd(24)} ${u.role.padEnd(10)} ${u.disabled ? 'disabled' : ''}`.trimEnd()).join('\n')}\n`,
      );
    return 0;
  });
}
