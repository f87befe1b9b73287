// The host half of pairing, as libimobiledevice's pair_record_generate does it: a root key and
// a host key (RSA 2048), a self-signed root certificate (CA), a host certificate and a device
// certificate around the phone's DevicePublicKey, both signed by the root key; names empty,
// ten years valid. The simulator uses it to pre-pair phones and in tests of the device side.
// Node has no X.509 writer, so the DER is built with asn1js (already a dependency for IMG4)
// rather than pulling in a certificate library for three fixed certificate shapes.
import {
  createHash,
  createPublicKey,
  generateKeyPair,
  randomBytes,
  randomUUID,
  sign,
  type KeyObject,
} from 'node:crypto';
import { promisify } from 'node:util';
import * as asn1js from 'asn1js';
import type { PairRecord } from '@bench/protocols';

const generateRsa = promisify(generateKeyPair);

const SHA256_WITH_RSA = '1.2.840.113549.1.1.11';
const BASIC_CONSTRAINTS = '2.5.29.19';
const KEY_USAGE = '2.5.29.15';
const SUBJECT_KEY_IDENTIFIER = '2.5.29.14';
const TEN_YEARS_MS = 10 * 365 * 24 * 3600 * 1000;

interface CertificateSpec {
  subjectKey: KeyObject;
  issuerKey: KeyObject;
  ca: boolean;
  serial: number;
  now: Date;
}

function algorithm(): asn1js.Sequence {
  return new asn1js.Sequence({
    value: [new asn1js.ObjectIdentifier({ value: SHA256_WITH_RSA }), new asn1js.Null()],
  });
}

function extension(oid: string, critical: boolean, value: asn1js.AsnType): asn1js.Sequence {
  return new asn1js.Sequence({
    value: [
      new asn1js.ObjectIdentifier({ value: oid }),
      new asn1js.Boolean({ value: critical }),
      new asn1js.OctetString({ valueHex: value.toBER() }),
    ],
  });
}

function extensionsFor(spec: CertificateSpec, spki: Buffer): asn1js.Sequence[] {
  const basic = new asn1js.Sequence({ value: spec.ca ? [new asn1js.Boolean({ value: true })] : [] });
  const list = [extension(BASIC_CONSTRAINTS, true, basic)];
  if (!spec.ca) {
    // digitalSignature (bit 0) and keyEncipherment (bit 2): 0b101 in the top bits, 5 unused bits.
    const usage = new asn1js.BitString({ valueHex: new Uint8Array([0xa0]).buffer, unusedBits: 5 });
    list.push(extension(KEY_USAGE, true, usage));
    const keyId = new asn1js.OctetString({ valueHex: keyIdentifier(spki) });
    list.push(extension(SUBJECT_KEY_IDENTIFIER, false, keyId));
  }
  return list;
}

function arrayBufferOf(bytes: Buffer): ArrayBuffer {
  return new Uint8Array(bytes).buffer;
}

/** The subject key identifier: SHA-1 of the subject public key info (RFC 5280 §4.2.1.2 method 1, near enough). */
function keyIdentifier(spki: Buffer): ArrayBuffer {
  return arrayBufferOf(createHash('sha1').update(spki).digest());
}

function certificatePem(spec: CertificateSpec): string {
  const spki = spec.subjectKey.export({ type: 'spki', format: 'der' });
  const tbs = new asn1js.Sequence({
    value: [
      new asn1js.Constructed({
        idBlock: { tagClass: 3, tagNumber: 0 },
        value: [new asn1js.Integer({ value: 2 })],
      }),
      // From a number, asn1js writes the minimal DER that OpenSSL insists on.
      new asn1js.Integer({ value: spec.serial }),
      algorithm(),
      new asn1js.Sequence({ value: [] }),
      new asn1js.Sequence({
        value: [
          new asn1js.UTCTime({ valueDate: spec.now }),
          new asn1js.UTCTime({ valueDate: new Date(spec.now.getTime() + TEN_YEARS_MS) }),
        ],
      }),
      new asn1js.Sequence({ value: [] }),
      asn1js.fromBER(spki).result,
      new asn1js.Constructed({
        idBlock: { tagClass: 3, tagNumber: 3 },
        value: [new asn1js.Sequence({ value: extensionsFor(spec, spki) })],
      }),
    ],
  });
  const tbsDer = Buffer.from(tbs.toBER());
  const signature = sign('sha256', tbsDer, spec.issuerKey);
  const certificate = new asn1js.Sequence({
    value: [
      asn1js.fromBER(tbsDer).result,
      algorithm(),
      new asn1js.BitString({ valueHex: arrayBufferOf(signature) }),
    ],
  });
  const der = Buffer.from(certificate.toBER());
  const lines = der.toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN CERTIFICATE-----\n${lines.join('\n')}\n-----END CERTIFICATE-----\n`;
}

export interface GeneratePairRecordInput {
  /** The phone's `DevicePublicKey` (PEM, PKCS#1 "RSA PUBLIC KEY" as lockdownd gives it). */
  devicePublicKeyPem: string | Uint8Array;
  /** usbmuxd's SystemBUID. */
  systemBuid: string;
  hostId?: string;
}

/** A complete host pair record (with private keys), ready for SavePairRecord and a `Pair` request. */
export async function generatePairRecord(input: GeneratePairRecordInput): Promise<PairRecord> {
  const [root, host] = await Promise.all([
    generateRsa('rsa', { modulusLength: 2048 }),
    generateRsa('rsa', { modulusLength: 2048 }),
  ]);
  const devicePublicKey = createPublicKey(Buffer.from(input.devicePublicKeyPem));
  const now = new Date(Math.floor(Date.now() / 1000) * 1000);
  const serial = 1 + randomBytes(3).readUIntBE(0, 3);
  const pem = (text: string) => new Uint8Array(Buffer.from(text, 'utf8'));
  return {
    hostId: input.hostId ?? randomUUID().toUpperCase(),
    systemBuid: input.systemBuid,
    rootCertificate: pem(
      certificatePem({ subjectKey: root.publicKey, issuerKey: root.privateKey, ca: true, serial, now }),
    ),
    hostCertificate: pem(
      certificatePem({ subjectKey: host.publicKey, issuerKey: root.privateKey, ca: false, serial, now }),
    ),
    deviceCertificate: pem(
      certificatePem({ subjectKey: devicePublicKey, issuerKey: root.privateKey, ca: false, serial, now }),
    ),
    rootPrivateKey: pem(root.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()),
    hostPrivateKey: pem(host.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()),
  };
}

/** The `PairRecord` dict of a `Pair` request: the public half (no private keys). */
export function pairRequestRecord(record: PairRecord): Record<string, Uint8Array | string> {
  return {
    DeviceCertificate: record.deviceCertificate,
    HostCertificate: record.hostCertificate,
    HostID: record.hostId,
    RootCertificate: record.rootCertificate,
    SystemBUID: record.systemBuid,
  };
}
