import * as fc from 'fast-check';
import { ProtocolError } from '../errors';
import { encodePlistXml, type PlistDict } from '../plist/plist';
import { buildTssRequest, parseHexField, TssRequestError } from './tss-request';
import {
  TssRefusedError,
  TssStatusError,
  encodeTssFailure,
  encodeTssSuccess,
  parseTssResponse,
} from './tss-response';

const RAW_RULES: PlistDict[] = [
  { Actions: { EPRO: false }, Conditions: { ApRawProductionMode: false, ApRequiresImage4: true } },
  { Actions: { EPRO: true }, Conditions: { ApRawProductionMode: true, ApRequiresImage4: true } },
  {
    Actions: { EPRO: false },
    Conditions: { ApDemotionPolicyOverride: 'Demote', ApRawProductionMode: true, ApRequiresImage4: true },
  },
  { Actions: { ESEC: false }, Conditions: { ApRawSecurityMode: false, ApRequiresImage4: true } },
  { Actions: { ESEC: true }, Conditions: { ApRawSecurityMode: true, ApRequiresImage4: true } },
];
const IBSS_RULES: PlistDict[] = [
  { Actions: { DPRO: true }, Conditions: { ApDemotionPolicyOverride: 'Demote', ApRawProductionMode: true } },
  ...RAW_RULES,
];

function identity(): PlistDict {
  return {
    ApChipID: '0x8015',
    ApBoardID: '0x02',
    ApSecurityDomain: '0x01',
    UniqueBuildID: Buffer.from('0102', 'hex'),
    'Ap,ProductType': 'iPhone10,1',
    'Ap,OSLongVersion': '22.7.100.0.0,0',
    BbChipID: '0x60',
    Info: { DeviceClass: 'd20ap', Variant: 'Customer Erase Install (IPSW)' },
    Manifest: {
      iBSS: {
        Digest: Buffer.from('aa', 'hex'),
        Trusted: true,
        BuildString: 'iBoot-1',
        Info: { Path: 'Firmware/dfu/iBSS.d20.RELEASE.im4p', RestoreRequestRules: IBSS_RULES },
      },
      AOP: { Digest: Buffer.from('bb', 'hex'), Info: { Path: 'aop.im4p', RestoreRequestRules: RAW_RULES } },
      NoRules: { Digest: Buffer.from('cc', 'hex'), Trusted: true, Info: { Path: 'x.im4p' } },
      ftap: { Trusted: true, Info: { RestoreRequestRules: RAW_RULES } },
      Untrusted: { Digest: Buffer.from('dd', 'hex'), Info: { Path: 'y' } },
      FTAB: { Digest: Buffer.from('ee', 'hex'), Trusted: true, Info: { IsFTAB: true, Path: 'f' } },
      BasebandFirmware: { Trusted: true, Info: { Path: 'bb.bbfw' } },
      NoInfo: { Digest: Buffer.from('ff', 'hex'), Trusted: true },
    },
  };
}

const device = {
  ApECID: 0x1234n,
  ApNonce: Buffer.alloc(32, 7),
  SepNonce: Buffer.alloc(20, 9),
  ApProductionMode: true,
  ApSecurityMode: true,
};

describe('buildTssRequest', () => {
  it('fills the top level from the identity and the device, with the injected UUID', () => {
    const request = buildTssRequest(identity(), device, { uuid: () => 'abcd-ef' });
    expect(request).toMatchObject({
      '@HostPlatformInfo': 'mac',
      '@VersionInfo': 'libauthinstall-1104.0.9',
      '@UUID': 'ABCD-EF',
      '@ApImg4Ticket': true,
      ApECID: 0x1234n,
      ApChipID: 0x8015,
      ApBoardID: 2,
      ApSecurityDomain: 1,
      ApProductionMode: true,
      ApSecurityMode: true,
      'Ap,ProductType': 'iPhone10,1',
      'Ap,OSLongVersion': '22.7.100.0.0,0',
    });
    expect(request.UniqueBuildID).toEqual(Buffer.from('0102', 'hex'));
    expect(request.SepNonce).toEqual(device.SepNonce);
    expect(request.BbChipID).toBeUndefined();
    // Encodable as the XML the server receives.
    expect(encodePlistXml(request).toString()).toContain('<key>@ApImg4Ticket</key>');
  });

  it('keeps exactly the components libtatsu asks for, minus their Info', () => {
    const request = buildTssRequest(identity(), device, { uuid: () => 'u' });
    const components = Object.keys(request).filter(
      (k) => !k.startsWith('@') && !k.startsWith('Ap') && k !== 'UniqueBuildID' && k !== 'SepNonce',
    );
    expect(components.sort()).toEqual(['AOP', 'NoRules', 'ftap', 'iBSS']);
    expect(request.iBSS).toEqual({
      Digest: Buffer.from('aa', 'hex'),
      Trusted: true,
      BuildString: 'iBoot-1',
      EPRO: true,
      ESEC: true,
    });
    expect(request.AOP).toEqual({ Digest: Buffer.from('bb', 'hex'), EPRO: true, ESEC: true });
    expect(request.NoRules).toEqual({
      Digest: Buffer.from('cc', 'hex'),
      Trusted: true,
      EPRO: true,
      ESEC: true,
    });
    expect(request.ftap).toEqual({ Trusted: true, Digest: new Uint8Array(0), EPRO: true, ESEC: true });
  });

  it('applies the rules to a development, insecure device (and never DPRO without a demotion policy)', () => {
    const request = buildTssRequest(
      identity(),
      { ...device, ApProductionMode: false, ApSecurityMode: false },
      { uuid: () => 'u' },
    );
    expect(request.iBSS).toMatchObject({ EPRO: false, ESEC: false });
    expect(request.iBSS).not.toHaveProperty('DPRO');
    expect(request.NoRules).toMatchObject({ EPRO: false, ESEC: false });
    const demoted = buildTssRequest(identity(), { ...device, DemotionPolicy: 'Demote' }, { uuid: () => 'u' });
    expect(demoted.iBSS).toMatchObject({ DPRO: true, EPRO: false, ESEC: true });
  });

  it('refuses a device whose chip disagrees with the identity, and a malformed hex id', () => {
    expect(() => buildTssRequest(identity(), { ...device, ApChipID: 0x8010 })).toThrow(TssRequestError);
    expect(() => parseHexField('8010', 'ApChipID')).toThrow(/"0x…" hex string/);
    expect(parseHexField('0x0C', 'ApBoardID')).toBe(12);
  });

  it('accepts an identity wrapper holding the raw dictionary', () => {
    expect(buildTssRequest({ raw: identity() }, device, { uuid: () => 'u' }).ApChipID).toBe(0x8015);
  });
});

describe('parseTssResponse', () => {
  // xmldom (under the plist library) reports malformed XML on console.error before throwing.
  beforeAll(() => jest.spyOn(console, 'error').mockImplementation(() => undefined));
  afterAll(() => jest.restoreAllMocks());
  const ticket = Buffer.from('3009160449 4d344d020100'.replace(/ /g, ''), 'hex');

  it('parses a success with its ticket and component entries', () => {
    const body = encodeTssSuccess({
      ApImg4Ticket: ticket,
      'RestoreSEP-TBM': { ucon: Buffer.from('01', 'hex') },
    });
    const response = parseTssResponse(body);
    expect(response.status).toBe(0);
    expect(response.message).toBe('SUCCESS');
    expect(Buffer.from(response.ticket)).toEqual(ticket);
    expect(Object.keys(response.components)).toEqual(['RestoreSEP-TBM']);
    expect(parseTssResponse(Buffer.from(body)).ticket).toEqual(response.ticket);
  });

  it('turns status 94 and 69 into a signing-refused error with the server message', () => {
    const message = "This device isn't eligible for the requested build.";
    for (const status of [94, 69]) {
      let caught: unknown;
      try {
        parseTssResponse(encodeTssFailure(status, message));
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(TssRefusedError);
      expect(caught).toMatchObject({ status, serverMessage: message, failureClass: 'signing-refused' });
    }
  });

  it('keeps other statuses apart from refusals', () => {
    expect(() => parseTssResponse('STATUS=100&MESSAGE=malformed request')).toThrow(TssStatusError);
    expect(() => parseTssResponse('STATUS=100&MESSAGE=malformed request')).not.toThrow(TssRefusedError);
  });

  it.each([
    ['empty', ''],
    ['html error page', '<html>502 Bad Gateway</html>'],
    ['success without plist', 'STATUS=0&MESSAGE=SUCCESS'],
    [
      'success with garbage plist',
      'STATUS=0&MESSAGE=SUCCESS&REQUEST_STRING=<?xml version="1.0"?><plist><dict><key>',
    ],
    ['success without ticket', encodeTssSuccess({ Other: true })],
  ])('refuses %s with a ProtocolError', (_name, body) => {
    expect(() => parseTssResponse(body)).toThrow(ProtocolError);
  });

  it('throws only ProtocolErrors on arbitrary, truncated or spliced bodies (property test)', () => {
    const valid = encodeTssSuccess({ ApImg4Ticket: ticket });
    const onlyTyped = (body: string | Uint8Array): boolean => {
      try {
        parseTssResponse(body);
        return true;
      } catch (error) {
        return error instanceof ProtocolError;
      }
    };
    fc.assert(
      fc.property(
        fc.string({ maxLength: 300 }),
        fc.uint8Array({ maxLength: 300 }),
        fc.nat(),
        (text, bytes, cut) =>
          onlyTyped(text) &&
          onlyTyped(bytes) &&
          onlyTyped(valid.slice(0, cut % valid.length)) &&
          onlyTyped(`STATUS=0&MESSAGE=SUCCESS&REQUEST_STRING=${text}`) &&
          onlyTyped(`STATUS=${cut}&MESSAGE=${text}`),
      ),
      { numRuns: 1500 },
    );
  });

  it('refuses an oversized body before parsing it', () => {
    expect(() => parseTssResponse(Buffer.alloc(17 * 1024 * 1024, 0x41))).toThrow(/exceeds/);
  });
});
