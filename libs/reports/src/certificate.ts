// Restore certificates: a signed statement that a phone (ECID) was restored to a build, by whom,
// where and when. The shop signs the canonical JSON of `certificate` (canonical-json.ts) with its
// Ed25519 key; `digest` (SHA-256 of the same bytes) is not a security measure (anyone can
// recompute it) but lets a verifier tell "a field was changed" apart from "the signature is
// wrong". Verification checks, in order: JSON, shape, format version, digest, key, signature.
import { createHash, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import { z } from 'zod';
import { FAILURE_CLASSES } from '@bench/bench-domain';
import type { DeviceReportRow, RestoreCertificate, RestoreCertificateBody } from '@bench/events';
import { canonicalJson } from './canonical-json';
import { normalEcid } from './event-facts';

export const CERTIFICATE_VERSION = 1;

/** Why a run cannot have a certificate (the server answers 409 with this). */
export class NotCertifiableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NotCertifiableError';
  }
}

/**
 * A public key's fingerprint: `ed25519:` and the first 16 bytes (32 hex digits) of the SHA-256
 * of its DER SubjectPublicKeyInfo, in groups of four, e.g. `ed25519:3f2a-…`.
 */
export function keyFingerprint(publicKey: KeyObject): string {
  const der = publicKey.export({ type: 'spki', format: 'der' });
  const hex = createHash('sha256').update(der).digest('hex').slice(0, 32);
  return `ed25519:${hex.match(/.{4}/g)?.join('-') ?? hex}`;
}

export function certificateDigest(body: RestoreCertificateBody): string {
  return `sha256:${createHash('sha256').update(canonicalJson(body), 'utf8').digest('hex')}`;
}

/** The certificate body of a done run's report row; throws NotCertifiableError for anything else. */
export function certificateBody(
  row: DeviceReportRow,
  options: { shop: string; issuedAt: Date; keyId: string; slotLabel: string | null },
): RestoreCertificateBody {
  if (row.outcome !== 'done')
    throw new NotCertifiableError(`run ${row.runId} did not end done (it is ${row.outcome}): no certificate`);
  if (!row.ecid) throw new NotCertifiableError(`run ${row.runId} has no recorded ECID: no certificate`);
  if (!row.toVersion || !row.finishedAt)
    throw new NotCertifiableError(
      `run ${row.runId} has no recorded target version or end time: no certificate`,
    );
  return {
    version: CERTIFICATE_VERSION,
    shop: options.shop,
    runId: row.runId,
    ecid: normalEcid(row.ecid),
    serialNumber: row.serialNumber,
    model: row.model,
    hardwareModel: row.hardwareModel,
    fromVersion: row.fromVersion,
    toVersion: row.toVersion,
    build: row.build,
    ipswSha256: row.ipswSha256,
    slot: { hostId: row.hostId, portPath: row.portPath, label: options.slotLabel },
    operator: row.operator,
    behavior: row.behavior,
    startedAt: row.startedAt,
    finishedAt: row.finishedAt,
    outcome: 'done',
    attempts: row.attempts.map((a) => ({
      number: a.number,
      outcome: a.outcome,
      failureClass: a.failureClass,
    })),
    issuedAt: options.issuedAt.toISOString(),
    keyId: options.keyId,
  };
}

export function signCertificate(body: RestoreCertificateBody, privateKey: KeyObject): RestoreCertificate {
  const publicKey = createPublicKey(privateKey);
  if (keyFingerprint(publicKey) !== body.keyId)
    throw new Error(
      `the certificate names key ${body.keyId}, but it is being signed with ${keyFingerprint(publicKey)}`,
    );
  const signature = sign(null, Buffer.from(canonicalJson(body), 'utf8'), privateKey);
  return {
    certificate: body,
    digest: certificateDigest(body),
    signature: { algorithm: 'Ed25519', value: signature.toString('base64') },
  };
}

const nullableText = z.string().nullable();
const isoTime = z.string().refine((value) => !Number.isNaN(Date.parse(value)), 'expected an ISO 8601 time');

const BodySchema = z.strictObject({
  version: z.literal(CERTIFICATE_VERSION),
  shop: z.string().min(1),
  runId: z.string().min(1),
  ecid: z.string().regex(/^[0-9A-F]{16}$/, 'expected 16 upper-case hex digits'),
  serialNumber: nullableText,
  model: nullableText,
  hardwareModel: nullableText,
  fromVersion: nullableText,
  toVersion: z.string().min(1),
  build: nullableText,
  ipswSha256: z
    .string()
    .regex(/^[0-9a-f]{64}$/, 'expected 64 lower-case hex digits')
    .nullable(),
  slot: z.strictObject({ hostId: z.string(), portPath: z.string(), label: nullableText }),
  operator: nullableText,
  behavior: z.string(),
  startedAt: isoTime.nullable(),
  finishedAt: isoTime,
  outcome: z.literal('done'),
  attempts: z.array(
    z.strictObject({
      number: z.number().int().min(1),
      outcome: z.string(),
      failureClass: z.enum(FAILURE_CLASSES).nullable(),
    }),
  ),
  issuedAt: isoTime,
  keyId: z
    .string()
    .regex(/^ed25519:[0-9a-f]{4}(-[0-9a-f]{4}){7}$/, 'expected ed25519:xxxx-… (a key fingerprint)'),
});

const CertificateSchema = z.strictObject({
  certificate: BodySchema,
  digest: z.string().regex(/^sha256:[0-9a-f]{64}$/, 'expected sha256:<64 hex digits>'),
  signature: z.strictObject({ algorithm: z.literal('Ed25519'), value: z.string().min(1) }),
});

export type VerifyResult =
  | { valid: true; certificate: RestoreCertificateBody; keyId: string }
  | {
      valid: false;
      problem: 'malformed' | 'unsupported' | 'tampered' | 'wrong-key' | 'bad-signature';
      message: string;
    };

/** Checks a certificate file's text against the shop's public key. Never throws for bad input. */
export function verifyCertificate(text: string, publicKey: KeyObject): VerifyResult {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    return { valid: false, problem: 'malformed', message: `malformed JSON: ${(error as Error).message}` };
  }
  // The format version first: a newer bench's certificate may have fields this one does not know.
  const version = (parsed as { certificate?: { version?: unknown } } | null)?.certificate?.version;
  if (typeof version === 'number' && version !== CERTIFICATE_VERSION) {
    return {
      valid: false,
      problem: 'unsupported',
      message: `certificate format version ${version} is not supported (this bench reads version ${CERTIFICATE_VERSION})`,
    };
  }
  const shape = CertificateSchema.safeParse(parsed);
  if (!shape.success) {
    const issues = shape.error.issues
      .slice(0, 5)
      .map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`)
      .join('; ');
    return { valid: false, problem: 'malformed', message: `not a bench restore certificate: ${issues}` };
  }
  const { certificate, digest, signature } = shape.data;
  const body = certificate as RestoreCertificateBody;
  if (certificateDigest(body) !== digest) {
    return {
      valid: false,
      problem: 'tampered',
      message:
        'a field was changed after the certificate was signed (its contents no longer match its digest)',
    };
  }
  const keyId = keyFingerprint(publicKey);
  if (body.keyId !== keyId) {
    return {
      valid: false,
      problem: 'wrong-key',
      message: `wrong key: the certificate was signed with key ${body.keyId}, the key given is ${keyId}`,
    };
  }
  const bytes = Buffer.from(signature.value, 'base64');
  const ok =
    bytes.length === 64 &&
    bytes.toString('base64') === signature.value &&
    verify(null, Buffer.from(canonicalJson(body), 'utf8'), publicKey, bytes);
  if (!ok) {
    return {
      valid: false,
      problem: 'bad-signature',
      message: `the signature does not match: it was altered, or not made by key ${keyId}`,
    };
  }
  return { valid: true, certificate: body, keyId };
}

/** `valid: <ECID> <model> restored to <version> (<build>) on <date> by <shop>, key <fingerprint>` */
export function describeValid(certificate: RestoreCertificateBody, keyId: string): string {
  return (
    `valid: ${certificate.ecid} ${certificate.model ?? 'unknown model'} restored to ${certificate.toVersion}` +
    ` (${certificate.build ?? 'build unknown'}) on ${certificate.finishedAt} by ${certificate.shop}, key ${keyId}`
  );
}
