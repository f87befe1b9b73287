import { generateKeyPairSync, createPublicKey } from 'node:crypto';
import type { DeviceReportRow, RestoreCertificate } from '@bench/events';
import { canonicalJson } from './canonical-json';
import {
  certificateBody,
  certificateDigest,
  describeValid,
  keyFingerprint,
  NotCertifiableError,
  signCertificate,
  verifyCertificate,
} from './certificate';

const shopKey = generateKeyPairSync('ed25519');
const otherKey = generateKeyPairSync('ed25519');
const keyId = keyFingerprint(shopKey.publicKey);

const row: DeviceReportRow = {
  runId: 'run-1',
  batchId: null,
  ecid: '1a2b3c4d5e6f70',
  serialNumber: 'F2LXK0ABCD12',
  model: 'iPhone14,2',
  hardwareModel: 'd63ap',
  fromVersion: '17.5',
  toVersion: '18.6',
  build: '22G86',
  ipswSha256: 'ab'.repeat(32),
  ipswFile: 'x.ipsw',
  hostId: 'pc1',
  portPath: '1-1.2',
  slot: 'A2',
  operator: 'tom',
  behavior: 'erase',
  firmwareSelector: 'latest',
  startedAt: '2025-06-01T01:00:00.000Z',
  finishedAt: '2025-06-01T01:10:00.000Z',
  durationSeconds: 600,
  attempts: [
    {
      number: 1,
      outcome: 'done',
      failureClass: null,
      message: null,
      lastStage: null,
      startedAt: '2025-06-01T01:00:00.000Z',
      endedAt: '2025-06-01T01:10:00.000Z',
    },
  ],
  outcome: 'done',
  failureClass: null,
  failureMessage: null,
};

function issue(): RestoreCertificate {
  const body = certificateBody(row, {
    shop: 'Fix-It Ltd',
    issuedAt: new Date('2025-06-01T06:00:00Z'),
    keyId,
    slotLabel: 'A2',
  });
  return signCertificate(body, shopKey.privateKey);
}

const text = (certificate: unknown) => JSON.stringify(certificate, null, 2);

describe('restore certificates', () => {
  it('fingerprints a key as ed25519: and 8 groups of 4 hex digits', () => {
    expect(keyId).toMatch(/^ed25519:[0-9a-f]{4}(-[0-9a-f]{4}){7}$/);
    expect(keyFingerprint(createPublicKey(shopKey.privateKey))).toBe(keyId);
    expect(keyFingerprint(otherKey.publicKey)).not.toBe(keyId);
  });

  it('signs the canonical body and verifies it', () => {
    const certificate = issue();
    expect(certificate.certificate).toMatchObject({
      version: 1,
      ecid: '001A2B3C4D5E6F70',
      keyId,
      outcome: 'done',
    });
    expect(certificate.digest).toBe(certificateDigest(certificate.certificate));
    const result = verifyCertificate(text(certificate), shopKey.publicKey);
    expect(result).toMatchObject({ valid: true, keyId });
    if (!result.valid) return;
    expect(describeValid(result.certificate, result.keyId)).toBe(
      `valid: 001A2B3C4D5E6F70 iPhone14,2 restored to 18.6 (22G86) on 2025-06-01T01:10:00.000Z by Fix-It Ltd, key ${keyId}`,
    );
  });

  it('does not depend on the order or layout of the file', () => {
    const certificate = issue();
    const reordered = JSON.parse(canonicalJson(certificate)) as RestoreCertificate;
    expect(verifyCertificate(JSON.stringify(reordered), shopKey.publicKey).valid).toBe(true);
  });

  it.each([
    ['toVersion', (c: RestoreCertificate) => (c.certificate.toVersion = '18.7')],
    ['ecid', (c: RestoreCertificate) => (c.certificate.ecid = '001A2B3C4D5E6F71')],
    ['attempts', (c: RestoreCertificate) => c.certificate.attempts.pop()],
    ['slot.label', (c: RestoreCertificate) => (c.certificate.slot.label = 'B1')],
  ])('fails when %s was changed', (_field, tamper) => {
    const certificate = issue();
    tamper(certificate);
    expect(verifyCertificate(text(certificate), shopKey.publicKey)).toMatchObject({
      valid: false,
      problem: 'tampered',
      message: expect.stringMatching(/a field was changed after the certificate was signed/),
    });
  });

  it('fails when a field and the digest were changed together (the signature still tells)', () => {
    const certificate = issue();
    certificate.certificate.toVersion = '18.7';
    certificate.digest = certificateDigest(certificate.certificate);
    expect(verifyCertificate(text(certificate), shopKey.publicKey)).toMatchObject({
      valid: false,
      problem: 'bad-signature',
    });
  });

  it('fails when the signature was changed', () => {
    const certificate = issue();
    const bytes = Buffer.from(certificate.signature.value, 'base64');
    bytes[10] ^= 0xff;
    certificate.signature.value = bytes.toString('base64');
    expect(verifyCertificate(text(certificate), shopKey.publicKey)).toMatchObject({
      valid: false,
      problem: 'bad-signature',
      message: expect.stringMatching(/signature does not match/),
    });
  });

  it('fails with another key, naming both', () => {
    expect(verifyCertificate(text(issue()), otherKey.publicKey)).toMatchObject({
      valid: false,
      problem: 'wrong-key',
      message: `wrong key: the certificate was signed with key ${keyId}, the key given is ${keyFingerprint(otherKey.publicKey)}`,
    });
  });

  it('names what is malformed', () => {
    expect(verifyCertificate('{"certificate": ', shopKey.publicKey)).toMatchObject({
      valid: false,
      problem: 'malformed',
      message: expect.stringMatching(/^malformed JSON: /),
    });
    const missing = JSON.parse(text(issue())) as { certificate: Record<string, unknown> };
    delete missing.certificate.ecid;
    expect(verifyCertificate(JSON.stringify(missing), shopKey.publicKey)).toMatchObject({
      valid: false,
      problem: 'malformed',
      message: expect.stringMatching(/not a bench restore certificate: certificate\.ecid/),
    });
    expect(verifyCertificate('[]', shopKey.publicKey)).toMatchObject({ valid: false, problem: 'malformed' });
  });

  it('refuses a format version it does not know', () => {
    const future = JSON.parse(text(issue())) as { certificate: Record<string, unknown> };
    future.certificate.version = 2;
    future.certificate.newField = 'x';
    expect(verifyCertificate(JSON.stringify(future), shopKey.publicKey)).toMatchObject({
      valid: false,
      problem: 'unsupported',
    });
  });

  it('issues certificates for done runs only', () => {
    const options = { shop: 'S', issuedAt: new Date(), keyId, slotLabel: null };
    expect(() => certificateBody({ ...row, outcome: 'bricked' }, options)).toThrow(NotCertifiableError);
    expect(() => certificateBody({ ...row, outcome: 'bricked' }, options)).toThrow(
      /did not end done \(it is bricked\)/,
    );
    expect(() => certificateBody({ ...row, ecid: null }, options)).toThrow(/no recorded ECID/);
  });

  it('will not sign a body that names another key', () => {
    const body = certificateBody(row, { shop: 'S', issuedAt: new Date(), keyId, slotLabel: null });
    expect(() => signCertificate(body, otherKey.privateKey)).toThrow(/names key/);
  });
});
