// The phone's side of lockdown pairing: its own RSA key (the host reads the public half as
// `DevicePublicKey`), and the hosts it trusts. The HOST makes every certificate (root, host, and
// the device certificate around our public key, see libimobiledevice's pair_record_generate);
// the phone checks what it is given and keeps it, then serves TLS with the device certificate.
// An erase restore forgets every trusted host, as on a real phone.
import { X509Certificate, generateKeyPair, randomBytes, type KeyObject } from 'node:crypto';
import { promisify } from 'node:util';
import { optionalData, optionalString, type PlistDict } from '@bench/protocols';
import type { SimPhone } from '../phone/sim-phone';
import type { TlsServerOptions } from './tls-upgrade';

const generateRsa = promisify(generateKeyPair);

export interface TrustedHost {
  hostId: string;
  systemBuid: string;
  rootCertificatePem: string;
  hostCertificatePem: string;
  deviceCertificatePem: string;
  escrowBag: Buffer;
}

/** Lockdown error names (the `Error` strings libimobiledevice maps to its error codes). */
export type PairingError = 'InvalidPairRecord' | 'InvalidHostID' | 'MissingHostID';

export type PairOutcome =
  { ok: true; host: TrustedHost } | { ok: false; error: PairingError; reason: string };

interface DeviceKey {
  publicKey: KeyObject;
  privateKeyPem: string;
  /** PKCS#1 PEM ("RSA PUBLIC KEY"), what libimobiledevice reads with PEM_read_bio_RSAPublicKey. */
  publicKeyPkcs1Pem: string;
}

export class DevicePairing {
  private key?: Promise<DeviceKey>;
  private readonly hosts = new Map<string, TrustedHost>();

  /** The device's key pair, made on first use (2048-bit RSA, like a real phone's). */
  private deviceKey(): Promise<DeviceKey> {
    this.key ??= generateRsa('rsa', { modulusLength: 2048 }).then(({ publicKey, privateKey }) => ({
      publicKey,
      privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      publicKeyPkcs1Pem: publicKey.export({ type: 'pkcs1', format: 'pem' }).toString(),
    }));
    return this.key;
  }

  async publicKeyPem(): Promise<string> {
    return (await this.deviceKey()).publicKeyPkcs1Pem;
  }

  get trustedHosts(): TrustedHost[] {
    return [...this.hosts.values()];
  }

  host(hostId: string): TrustedHost | undefined {
    return this.hosts.get(hostId);
  }

  /** `Pair`: checks the certificates the host made and trusts it. */
  async pair(record: PlistDict): Promise<PairOutcome> {
    const parsed = parsePairRecord(record);
    if (!parsed.ok) return parsed;
    const { hostId, systemBuid, root, host, device } = parsed;
    const key = await this.deviceKey();
    if (!device.publicKey.equals(key.publicKey)) {
      return refuse('InvalidPairRecord', 'the DeviceCertificate does not carry this device public key');
    }
    if (!verifiedBy(host, root) || !verifiedBy(device, root)) {
      return refuse(
        'InvalidPairRecord',
        'the host and device certificates are not signed by the RootCertificate',
      );
    }
    const trusted: TrustedHost = {
      hostId,
      systemBuid,
      rootCertificatePem: root.toString(),
      hostCertificatePem: host.toString(),
      deviceCertificatePem: device.toString(),
      escrowBag: this.hosts.get(hostId)?.escrowBag ?? randomBytes(128),
    };
    this.hosts.set(hostId, trusted);
    return { ok: true, host: trusted };
  }

  /** `ValidatePair`: the host is known and presents the same certificates it paired with. */
  validate(record: PlistDict): PairOutcome {
    const hostId = optionalString(record, 'HostID');
    if (!hostId) return refuse('MissingHostID', 'the pair record has no HostID');
    const known = this.hosts.get(hostId);
    if (!known) return refuse('InvalidHostID', `host ${hostId} is not paired with this device`);
    const hostCertificate = optionalData(record, 'HostCertificate');
    if (hostCertificate && !samePem(hostCertificate, known.hostCertificatePem)) {
      return refuse('InvalidHostID', `host ${hostId} presents another HostCertificate than it paired with`);
    }
    return { ok: true, host: known };
  }

  unpair(hostId: string): boolean {
    return this.hosts.delete(hostId);
  }

  /** An erase restore wipes the phone's trust records. */
  forgetAll(): void {
    this.hosts.clear();
  }

  /** TLS server settings for a session with `host`: our device certificate, its peer certificates. */
  async tlsOptions(host: TrustedHost): Promise<TlsServerOptions> {
    const key = await this.deviceKey();
    const accepted = [host.rootCertificatePem, host.hostCertificatePem].map(
      (pem) => new X509Certificate(pem),
    );
    return {
      certificatePem: host.deviceCertificatePem,
      privateKeyPem: key.privateKeyPem,
      acceptPeer: (peer) =>
        peer !== undefined && accepted.some((cert) => cert.fingerprint256 === peer.fingerprint256),
    };
  }
}

type ParsedRecord =
  | {
      ok: true;
      hostId: string;
      systemBuid: string;
      root: X509Certificate;
      host: X509Certificate;
      device: X509Certificate;
    }
  | { ok: false; error: PairingError; reason: string };

function parsePairRecord(record: PlistDict): ParsedRecord {
  const hostId = optionalString(record, 'HostID');
  if (!hostId) return refuse('MissingHostID', 'the pair record has no HostID');
  const systemBuid = optionalString(record, 'SystemBUID') ?? '';
  const certificates: X509Certificate[] = [];
  for (const name of ['RootCertificate', 'HostCertificate', 'DeviceCertificate']) {
    const pem = optionalData(record, name);
    if (!pem) return refuse('InvalidPairRecord', `the pair record has no ${name}`);
    try {
      certificates.push(new X509Certificate(Buffer.from(pem)));
    } catch (error) {
      return refuse('InvalidPairRecord', `the ${name} does not parse: ${(error as Error).message}`);
    }
  }
  const [root, host, device] = certificates;
  return { ok: true, hostId, systemBuid, root, host, device };
}

function verifiedBy(certificate: X509Certificate, issuer: X509Certificate): boolean {
  try {
    return certificate.verify(issuer.publicKey);
  } catch {
    return false;
  }
}

function samePem(bytes: Uint8Array, pem: string): boolean {
  try {
    return new X509Certificate(Buffer.from(bytes)).fingerprint256 === new X509Certificate(pem).fingerprint256;
  } catch {
    return false;
  }
}

function refuse(error: PairingError, reason: string): { ok: false; error: PairingError; reason: string } {
  return { ok: false, error, reason };
}

const pairings = new WeakMap<SimPhone, DevicePairing>();

/** The phone's pairing state (it lives as long as the phone: across reboots, not across erase). */
export function pairingOf(phone: SimPhone): DevicePairing {
  let pairing = pairings.get(phone);
  if (!pairing) {
    pairing = new DevicePairing();
    pairings.set(phone, pairing);
  }
  return pairing;
}
