// TLS with a pair record's certificates, for lockdown sessions and SSL services.
//
// Peer verification: by default we do what libimobiledevice does and do not verify the device's
// certificate (it is self-issued at pairing time, carries no host name, and the link is a USB
// cable). `verifyDevice: true` checks that the certificate the device presents was signed by
// the pair record's RootCertificate, which is how pairing issues the DeviceCertificate.
import { X509Certificate } from 'node:crypto';
import tls from 'node:tls';
import type { PairRecord } from '@bench/protocols';
import type { PlistServiceClient } from './plist-service-client';
import { DeviceServiceError } from './service-errors';

export interface PairRecordTlsOptions {
  verifyDevice?: boolean;
  handshakeTimeoutMs?: number;
}

/**
 * Client options presenting the host certificate. Devices (and the certificates pairing makes)
 * can be old: like libimobiledevice, accept TLS 1.0+ and OpenSSL security level 0.
 */
export function pairRecordTlsOptions(record: PairRecord): tls.ConnectionOptions {
  return {
    cert: Buffer.from(record.hostCertificate),
    key: Buffer.from(record.hostPrivateKey),
    rejectUnauthorized: false,
    checkServerIdentity: () => undefined,
    minVersion: 'TLSv1',
    ciphers: 'DEFAULT:@SECLEVEL=0',
  };
}

/** Upgrades `client` to TLS with the pair record and, if asked, checks the device certificate. */
export async function startPairRecordTls(
  client: PlistServiceClient,
  record: PairRecord,
  options: PairRecordTlsOptions = {},
): Promise<tls.TLSSocket> {
  const socket = await client.startTls(pairRecordTlsOptions(record), options.handshakeTimeoutMs);
  if (options.verifyDevice) {
    try {
      verifyDeviceCertificate(socket, record, client.service);
    } catch (error) {
      client.close();
      throw error;
    }
  }
  return socket;
}

export function verifyDeviceCertificate(
  socket: tls.TLSSocket,
  record: PairRecord,
  service = 'lockdownd',
): void {
  const peer = socket.getPeerX509Certificate();
  if (!peer) throw new DeviceServiceError('tls', service, 'the device presented no certificate');
  const root = new X509Certificate(Buffer.from(record.rootCertificate));
  if (!peer.verify(root.publicKey)) {
    throw new DeviceServiceError(
      'tls',
      service,
      "the device's certificate is not signed by the pair record's root",
    );
  }
}
