// The shop's signing key: an Ed25519 private key in a PEM file (PKCS#8), created on first use
// with mode 0600, and its public key exported beside it (SPKI PEM) for customers to verify
// certificates with. Two processes creating the key at once end up with the same key: the file
// is written aside and hard-linked into place, which fails for the loser, who reads the winner's.
import {
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  randomBytes,
  type KeyObject,
} from 'node:crypto';
import { link, mkdir, readFile, rename, stat, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { keyFingerprint } from './certificate';

export interface ShopKeyFiles {
  privateKeyFile: string;
  publicKeyFile: string;
}

export interface ShopKey {
  privateKey: KeyObject;
  publicKey: KeyObject;
  keyId: string;
  /** Whether this call created the key. */
  created: boolean;
  /** Things an operator should fix (a key file others can read, a public key file rewritten). */
  warnings: string[];
}

/** A key file that is missing, unreadable or not an Ed25519 key (the message says which and how to fix it). */
export class ShopKeyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ShopKeyError';
  }
}

export async function loadOrCreateShopKey(files: ShopKeyFiles): Promise<ShopKey> {
  const warnings: string[] = [];
  let created = false;
  let pem = await readFile(files.privateKeyFile, 'utf8').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return undefined;
    throw new ShopKeyError(`cannot read the shop key ${files.privateKeyFile}: ${error.message}`);
  });
  if (pem === undefined) {
    ({ pem, created } = await createKeyFile(files.privateKeyFile));
  } else {
    const mode = (await stat(files.privateKeyFile)).mode & 0o777;
    if (mode & 0o077)
      warnings.push(
        `the shop key ${files.privateKeyFile} can be read by other users (mode ${mode.toString(8)}): chmod 600 it`,
      );
  }
  const privateKey = parseKey(() => createPrivateKey(pem), files.privateKeyFile);
  const publicKey = createPublicKey(privateKey);
  const keyId = keyFingerprint(publicKey);
  if (await exportPublicKey(files.publicKeyFile, publicKey, keyId))
    if (!created) warnings.push(`wrote the shop's public key to ${files.publicKeyFile}`);
  return { privateKey, publicKey, keyId, created, warnings };
}

/** A public key PEM (or a private one: its public half is used) to verify certificates with. */
export async function readPublicKey(file: string): Promise<KeyObject> {
  const pem = await readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => {
    throw new ShopKeyError(
      error.code === 'ENOENT'
        ? `no key file ${file} (pass the shop's public key with --key FILE)`
        : `cannot read the key file ${file}: ${error.message}`,
    );
  });
  return parseKey(
    () => (/PRIVATE KEY/.test(pem) ? createPublicKey(createPrivateKey(pem)) : createPublicKey(pem)),
    file,
  );
}

function parseKey(parse: () => KeyObject, file: string): KeyObject {
  let key: KeyObject;
  try {
    key = parse();
  } catch (error) {
    throw new ShopKeyError(`${file} is not a PEM key: ${(error as Error).message}`);
  }
  if (key.asymmetricKeyType !== 'ed25519')
    throw new ShopKeyError(
      `${file} holds a ${key.asymmetricKeyType ?? 'unknown'} key; certificates are signed with Ed25519`,
    );
  return key;
}

async function createKeyFile(file: string): Promise<{ pem: string; created: boolean }> {
  await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  const { privateKey } = generateKeyPairSync('ed25519');
  const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const temp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  await writeFile(temp, pem, { mode: 0o600, flag: 'wx' });
  try {
    await link(temp, file);
    return { pem, created: true };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    return { pem: await readFile(file, 'utf8'), created: false };
  } finally {
    await unlink(temp).catch(() => undefined);
  }
}

/** Writes the public key file unless it already holds this key; true when it wrote. */
async function exportPublicKey(file: string, publicKey: KeyObject, keyId: string): Promise<boolean> {
  const existing = await readPublicKey(file).catch(() => undefined);
  if (existing && keyFingerprint(existing) === keyId) return false;
  await mkdir(path.dirname(file), { recursive: true });
  const temp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  await writeFile(temp, publicKey.export({ type: 'spki', format: 'pem' }).toString(), { mode: 0o644 });
  await rename(temp, file);
  return true;
}
