// The device side of lockdown's in-place TLS: after `StartSession` (or on a service port whose
// StartService said `EnableServiceSSL`) the host starts a TLS handshake on the SAME byte stream,
// and after `StopSession` it sends its close_notify and carries on in plain text. Node's
// TLSSocket owns whatever stream it wraps, so it wraps a small carrier we control: we feed it the
// raw bytes while TLS is on, and unhook it (silently: nothing more is written) when TLS ends.
import { Duplex } from 'node:stream';
import tls from 'node:tls';
import type { X509Certificate } from 'node:crypto';

class TlsCarrier extends Duplex {
  private unhooked = false;

  constructor(private readonly sink: (chunk: Buffer) => void) {
    super();
  }

  feed(chunk: Buffer): void {
    if (!this.unhooked) this.push(chunk);
  }

  unhook(): void {
    this.unhooked = true;
  }

  override _read(): void {
    // Bytes are pushed by `feed` as they arrive from the raw channel.
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    if (!this.unhooked) this.sink(chunk);
    callback();
  }

  override _final(callback: (error?: Error | null) => void): void {
    callback();
  }
}

export interface TlsServerOptions {
  /** PEM of the certificate the host made for this device when pairing. */
  certificatePem: string;
  /** PEM (PKCS#8) of the device's own private key. */
  privateKeyPem: string;
  /**
   * Checks the certificate the host presented. libimobiledevice 1.3.0 built with OpenSSL (Debian)
   * presents the pair record's RootCertificate; its GnuTLS build presents the HostCertificate.
   */
  acceptPeer(certificate: X509Certificate | undefined): boolean;
}

/**
 * A TLS server session layered on a raw stream we keep reading ourselves. `feed` raw bytes in;
 * decrypted bytes come out of `onData`; `write` encrypts.
 */
export class TlsServerSession {
  private readonly carrier: TlsCarrier;
  readonly socket: tls.TLSSocket;
  readonly secured: Promise<void>;

  constructor(
    rawWrite: (chunk: Buffer) => void,
    options: TlsServerOptions,
    onData: (chunk: Buffer) => void,
    onFailure: (error: Error) => void,
  ) {
    this.carrier = new TlsCarrier(rawWrite);
    const secureContext = tls.createSecureContext({
      cert: options.certificatePem,
      key: options.privateKeyPem,
      // Pairing certificates are SHA-1 signed with empty names (what libimobiledevice makes);
      // real lockdownd accepts them, and so must we: security level 0, TLS 1.0 and later.
      ciphers: 'DEFAULT:@SECLEVEL=0',
      minVersion: 'TLSv1',
    });
    this.socket = new tls.TLSSocket(this.carrier, {
      isServer: true,
      secureContext,
      requestCert: true,
      rejectUnauthorized: false,
    });
    this.secured = new Promise<void>((resolve, reject) => {
      this.socket.once('secure', () => {
        if (options.acceptPeer(this.socket.getPeerX509Certificate())) resolve();
        else reject(new Error('the host presented a certificate that is not in its pair record'));
      });
      this.socket.once('error', reject);
    });
    this.secured.catch(onFailure);
    this.socket.on('data', onData);
    this.socket.on('error', onFailure);
  }

  feed(chunk: Buffer): void {
    this.carrier.feed(chunk);
  }

  write(bytes: Buffer): Promise<void> {
    return new Promise((resolve, reject) =>
      this.socket.write(bytes, (error) => (error ? reject(error) : resolve())),
    );
  }

  /** Leaves TLS without sending anything more (the host does not wait for our close_notify). */
  unhook(): void {
    this.carrier.unhook();
    this.socket.removeAllListeners('data');
    this.socket.on('error', () => undefined);
    this.socket.destroy();
  }
}
