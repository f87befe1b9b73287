import fc from 'fast-check';
import { ProtocolError } from '../errors';
import {
  FIRST_GENERATION_CPID,
  formatIBootNonces,
  formatIBootSerial,
  isImage4Aware,
  parseIBootNonces,
  parseIBootSerial,
} from './iboot-serial';

// Seen in the wild (restore-protocol.md §1.2): libimobiledevice issue 146 (DFU) and libirecovery
// issue 101 (recovery, lower-cased by Windows).
const DFU_SAMPLE =
  'CPID:7000 CPRV:11 CPFM:03 SCEP:01 BDID:00 ECID:00022D3C10981026 IBFL:1C SRTG:[iBoot-1992.0.0.1.19]';
const RECOVERY_SAMPLE_LOWER =
  'sdom:01 cpid:8015 cprv:11 cpfm:03 scep:01 bdid:0c ecid:00113dd918d2402e ibfl:3c srnm:[fd3vw25vjcm4]';

describe('parseIBootSerial', () => {
  it('reads the DFU sample', () => {
    expect(parseIBootSerial(DFU_SAMPLE)).toEqual({
      cpid: 0x7000,
      cprv: 0x11,
      cpfm: 0x03,
      scep: 0x01,
      bdid: 0x00,
      ecid: 0x00022d3c10981026n,
      ibfl: 0x1c,
      srtg: 'iBoot-1992.0.0.1.19',
    });
  });

  it('reads the lower-cased recovery sample', () => {
    expect(parseIBootSerial(RECOVERY_SAMPLE_LOWER)).toEqual({
      sdom: 0x01,
      cpid: 0x8015,
      cprv: 0x11,
      cpfm: 0x03,
      scep: 0x01,
      bdid: 0x0c,
      ecid: 0x00113dd918d2402en,
      ibfl: 0x3c,
      srnm: 'fd3vw25vjcm4',
    });
  });

  it('keeps a full 64-bit ECID exactly', () => {
    expect(parseIBootSerial('CPID:8015 ECID:FFFFFFFFFFFFFFFF').ecid).toBe(0xffffffffffffffffn);
  });

  it('assumes a first-generation chip when CPID is missing, as libirecovery does', () => {
    expect(parseIBootSerial('SRTG:[iBoot-320.20]')).toEqual({
      cpid: FIRST_GENERATION_CPID,
      srtg: 'iBoot-320.20',
    });
  });

  it('reads nonces repeated in the serial and the PWND marker', () => {
    const serial = parseIBootSerial('CPID:8010 ECID:0000000000000001 PWND:[checkm8] NONC:00FF SNON:ab');
    expect(serial.pwnd).toBe('checkm8');
    expect(Buffer.from(serial.apNonce ?? [])).toEqual(Buffer.from([0x00, 0xff]));
    expect(Buffer.from(serial.sepNonce ?? [])).toEqual(Buffer.from([0xab]));
  });

  it('refuses malformed hex and oversized input with a ProtocolError naming the tag', () => {
    expect(() => parseIBootSerial('CPID:80G5')).toThrow(ProtocolError);
    expect(() => parseIBootSerial('CPID:80G5')).toThrow("CPID '80G5' is not a hex number");
    expect(() => parseIBootSerial('ECID:00000000000000001')).toThrow('ECID');
    expect(() => parseIBootSerial('NONC:ABC')).toThrow('NONC');
    expect(() => parseIBootSerial('X'.repeat(600))).toThrow('limit 512');
  });
});

describe('formatIBootSerial', () => {
  it('reproduces the DFU sample byte for byte', () => {
    expect(formatIBootSerial(parseIBootSerial(DFU_SAMPLE))).toBe(DFU_SAMPLE);
  });

  it('writes the recovery sample in the device order with upper-case hex', () => {
    expect(formatIBootSerial(parseIBootSerial(RECOVERY_SAMPLE_LOWER))).toBe(
      'SDOM:01 CPID:8015 CPRV:11 CPFM:03 SCEP:01 BDID:0C ECID:00113DD918D2402E IBFL:3C SRNM:[fd3vw25vjcm4]',
    );
  });

  it('round-trips what it writes', () => {
    const serial = {
      cpid: 0x8101,
      cprv: 0x11,
      cpfm: 0x03,
      scep: 0x01,
      bdid: 0x0c,
      ecid: 0x001a2b3c4d5e6f70n,
      ibfl: 0x3c,
      srnm: 'F17ABCDEFG12',
    };
    expect(parseIBootSerial(formatIBootSerial(serial))).toEqual(serial);
  });
});

describe('nonce string (string descriptor 1)', () => {
  it('reads the sample from idevicerestore issue 29 (no SNON on that device)', () => {
    const nonces = parseIBootNonces(' NONC:8B2D4E5F93D86D299D29D64A5D0945557A9405AE');
    expect(Buffer.from(nonces.apNonce ?? []).toString('hex')).toBe(
      '8b2d4e5f93d86d299d29d64a5d0945557a9405ae',
    );
    expect(nonces.sepNonce).toBeUndefined();
  });

  it('formats with the leading space and reads back', () => {
    const apNonce = Buffer.from('00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff', 'hex');
    const sepNonce = Buffer.from('0102030405060708090a0b0c0d0e0f1011121314', 'hex');
    const text = formatIBootNonces({ apNonce, sepNonce });
    expect(text).toBe(
      ' NONC:00112233445566778899AABBCCDDEEFF00112233445566778899AABBCCDDEEFF SNON:0102030405060708090A0B0C0D0E0F1011121314',
    );
    const back = parseIBootNonces(text);
    expect(Buffer.from(back.apNonce ?? [])).toEqual(apNonce);
    expect(Buffer.from(back.sepNonce ?? [])).toEqual(sepNonce);
  });
});

describe('isImage4Aware', () => {
  it('reads IBFL bit 2', () => {
    expect(isImage4Aware({ ibfl: 0x1c })).toBe(true);
    expect(isImage4Aware({ ibfl: 0x03 })).toBe(false);
    expect(isImage4Aware({})).toBe(false);
  });
});

describe('iBoot serial and nonce decoders under malformed input (fast-check)', () => {
  const tokenish = fc.stringMatching(/^[A-Z]{4}:[0-9A-Fa-fxX[\]\- ]{0,24}$/);
  const inputs = fc.oneof(
    fc.string({ maxLength: 512 }),
    fc.array(tokenish, { maxLength: 20 }).map((tokens) => tokens.join(' ')),
    fc.string({ maxLength: 64 }).map((s) => `ECID:${s} CPID:${s}`),
    fc.integer({ min: 0, max: 100_000 }).map((n) => `NONC:${'A'.repeat(n)}`),
  );

  it('either parse or throw a ProtocolError: never another error, never a hang', () => {
    fc.assert(
      fc.property(inputs, (text) => {
        for (const decode of [parseIBootSerial, parseIBootNonces]) {
          try {
            decode(text);
          } catch (error) {
            expect(error).toBeInstanceOf(ProtocolError);
          }
        }
      }),
      { numRuns: 2_000 },
    );
  });

  it('round-trips every serial it formats', () => {
    fc.assert(
      fc.property(
        fc.record({
          cpid: fc.integer({ min: 0x8000, max: 0x8fff }),
          bdid: fc.integer({ min: 0, max: 0xff }),
          ecid: fc.bigInt({ min: 0n, max: 0xffff_ffff_ffff_ffffn }),
        }),
        (fields) => {
          const back = parseIBootSerial(formatIBootSerial({ ...fields, cpfm: 3, scep: 1, ibfl: 0x1c }));
          expect(back).toMatchObject(fields);
        },
      ),
    );
  });
});
