// `bench verify-certificate FILE [--key PEM]`: whether a restore certificate was signed by the
// shop's key and is unchanged since. A customer runs it with the shop's public key; on the bench
// itself the key defaults to the bench's own.
import type { KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { loadEnv } from '@bench/config';
import { describeValid, readPublicKey, ShopKeyError, verifyCertificate } from '@bench/reports';

export interface VerifyCertificateOptions {
  key?: string;
}

export interface VerifyIo {
  out: NodeJS.WritableStream;
  err: NodeJS.WritableStream;
}

/** Exit codes: 0 valid, 1 not valid, 2 the file or the key cannot be read. */
export async function verifyCertificateCommand(
  file: string,
  options: VerifyCertificateOptions,
  io: VerifyIo = { out: process.stdout, err: process.stderr },
): Promise<number> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    io.err.write(`bench: cannot read ${file}: ${(error as Error).message}\n`);
    return 2;
  }
  let key: KeyObject;
  try {
    key = await publicKeyFor(options);
  } catch (error) {
    if (!(error instanceof ShopKeyError)) throw error;
    io.err.write(`bench: ${error.message}\n`);
    return 2;
  }
  const result = verifyCertificate(text, key);
  if (!result.valid) {
    io.out.write(`invalid: ${file}: ${result.message}\n`);
    return 1;
  }
  io.out.write(`${describeValid(result.certificate, result.keyId)}\n`);
  return 0;
}

/** --key, else this bench's exported public key, else the public half of its private key. */
async function publicKeyFor(options: VerifyCertificateOptions): Promise<KeyObject> {
  if (options.key) return readPublicKey(options.key);
  const { shop } = loadEnv();
  try {
    return await readPublicKey(shop.publicKeyFile);
  } catch (error) {
    const fromPrivate = await readPublicKey(shop.keyFile).catch(() => undefined);
    if (fromPrivate) return fromPrivate;
    throw new ShopKeyError(
      `this bench has no shop key yet (${shop.publicKeyFile}): pass the shop's public key with --key FILE` +
        (error instanceof ShopKeyError && !/no key file/.test(error.message) ? ` (${error.message})` : ''),
    );
  }
}
