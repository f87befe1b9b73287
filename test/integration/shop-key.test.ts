// The shop's signing key on disk: created once with mode 0600 (two servers starting together
// end up with the same key), its public key exported beside it, and clear errors for a key file
// that is not an Ed25519 key.
import { generateKeyPairSync } from 'node:crypto';
import { chmodSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { keyFingerprint, loadOrCreateShopKey, readPublicKey, ShopKeyError } from '@bench/reports';
import { tempDir } from '@bench/testing';

describe("the shop's signing key", () => {
  const { dir, remove } = tempDir('bench-shop-key-');
  afterAll(() => remove());
  const filesIn = (name: string) => ({
    privateKeyFile: path.join(dir, name, 'keys', 'shop-ed25519.pem'),
    publicKeyFile: path.join(dir, name, 'keys', 'shop-ed25519.pub.pem'),
  });

  it('is created once, private to its owner, with the public key beside it', async () => {
    const files = filesIn('fresh');
    const [a, b, c] = await Promise.all([1, 2, 3].map(() => loadOrCreateShopKey(files)));
    expect(new Set([a.keyId, b.keyId, c.keyId]).size).toBe(1);
    expect([a, b, c].filter((key) => key.created)).toHaveLength(1);
    expect(statSync(files.privateKeyFile).mode & 0o777).toBe(0o600);
    expect(keyFingerprint(await readPublicKey(files.publicKeyFile))).toBe(a.keyId);
    expect(readFileSync(files.privateKeyFile, 'utf8')).toMatch(/^-----BEGIN PRIVATE KEY-----/);
    const again = await loadOrCreateShopKey(files);
    expect(again).toMatchObject({ keyId: a.keyId, created: false, warnings: [] });
  });

  it('warns about a key others can read, and rewrites a public key that does not match', async () => {
    const files = filesIn('shared');
    const first = await loadOrCreateShopKey(files);
    chmodSync(files.privateKeyFile, 0o644);
    writeFileSync(
      files.publicKeyFile,
      generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'pem' }),
    );
    const key = await loadOrCreateShopKey(files);
    expect(key.warnings).toEqual([
      `the shop key ${files.privateKeyFile} can be read by other users (mode 644): chmod 600 it`,
      `wrote the shop's public key to ${files.publicKeyFile}`,
    ]);
    expect(keyFingerprint(await readPublicKey(files.publicKeyFile))).toBe(first.keyId);
  });

  it('refuses a key file that is not an Ed25519 PEM key, saying which file and why', async () => {
    const rsa = path.join(dir, 'rsa.pem');
    writeFileSync(
      rsa,
      generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ type: 'pkcs8', format: 'pem' }),
    );
    await expect(loadOrCreateShopKey({ privateKeyFile: rsa, publicKeyFile: `${rsa}.pub` })).rejects.toThrow(
      new ShopKeyError(`${rsa} holds a rsa key; certificates are signed with Ed25519`),
    );
    const garbage = path.join(dir, 'garbage.pem');
    writeFileSync(garbage, 'not a key');
    await expect(readPublicKey(garbage)).rejects.toThrow(/garbage\.pem is not a PEM key/);
    await expect(readPublicKey(path.join(dir, 'absent.pem'))).rejects.toThrow(
      /no key file .*absent\.pem \(pass the shop's public key with --key FILE\)/,
    );
  });

  it("reads a private key file's public half for verifying", async () => {
    const files = filesIn('private-as-public');
    const key = await loadOrCreateShopKey(files);
    expect(keyFingerprint(await readPublicKey(files.privateKeyFile))).toBe(key.keyId);
  });
});
