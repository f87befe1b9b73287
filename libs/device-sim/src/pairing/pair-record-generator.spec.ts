import { X509Certificate, generateKeyPairSync } from 'node:crypto';
import { DevicePairing } from './device-pairing';
import { generatePairRecord, pairRequestRecord } from './pair-record-generator';

describe('host pair-record generator', () => {
  it('makes certificates OpenSSL parses, chained to the root, around the device key', async () => {
    const pairing = new DevicePairing();
    const devicePublicKeyPem = await pairing.publicKeyPem();
    // Several records: serials are random, and each must encode as minimal DER.
    for (let i = 0; i < 6; i++) {
      const record = await generatePairRecord({ devicePublicKeyPem, systemBuid: 'BUID' });
      const root = new X509Certificate(Buffer.from(record.rootCertificate));
      const host = new X509Certificate(Buffer.from(record.hostCertificate));
      const device = new X509Certificate(Buffer.from(record.deviceCertificate));
      expect(root.ca).toBe(true);
      expect(host.ca).toBe(false);
      expect(host.verify(root.publicKey) && device.verify(root.publicKey)).toBe(true);
      expect(await pairing.pair(pairRequestRecord(record))).toMatchObject({ ok: true });
    }
  });

  it('lets the device refuse a record made for another key', async () => {
    const pairing = new DevicePairing();
    const other = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey;
    const record = await generatePairRecord({
      devicePublicKeyPem: other.export({ type: 'pkcs1', format: 'pem' }).toString(),
      systemBuid: 'BUID',
    });
    expect(await pairing.pair(pairRequestRecord(record))).toMatchObject({
      ok: false,
      error: 'InvalidPairRecord',
    });
    expect(pairing.validate({ HostID: record.hostId })).toMatchObject({ ok: false, error: 'InvalidHostID' });
  });
});
