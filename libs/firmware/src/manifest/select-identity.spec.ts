import { encodePlistXml, type PlistDict } from '@bench/protocols';
import { FirmwareInvalidError } from '@bench/bench-domain';
import { parseBuildManifest } from './build-manifest';
import { checkIdentityMembers, componentPath, identityPaths } from './components';
import { hardwareModelFor, selectBuildIdentity, supportedModels } from './select-identity';
import { BuildIdentityNotFoundError } from '../errors';

function identity(
  deviceClass: string,
  variant: string | undefined,
  behavior: string,
  extra: PlistDict = {},
): PlistDict {
  const info: PlistDict = { DeviceClass: deviceClass, RestoreBehavior: behavior };
  if (variant !== undefined) info.Variant = variant;
  return {
    ApChipID: '0x8015',
    ApBoardID: '0x02',
    ApSecurityDomain: '0x01',
    UniqueBuildID: Buffer.alloc(20, 1),
    Info: info,
    Manifest: {
      iBSS: { Digest: Buffer.alloc(48), Trusted: true, Info: { Path: 'Firmware/dfu/iBSS.im4p' } },
      OS: { Digest: Buffer.alloc(48), Trusted: true, Info: { Path: 'os.dmg' } },
    },
    ...extra,
  };
}

function manifest(identities: PlistDict[], products = ['iPhone10,1']) {
  return parseBuildManifest(
    encodePlistXml({
      ProductVersion: '1.0',
      ProductBuildVersion: '1A1',
      SupportedProductTypes: products,
      BuildIdentities: identities,
    }),
  );
}

describe('selectBuildIdentity rules', () => {
  it('prefers the exact Customer variant over a substring match and never picks Research', () => {
    const m = manifest([
      identity('d20ap', 'Research Customer Erase Install (IPSW)', 'Erase'),
      identity('d20ap', 'Developer Erase Install (IPSW)', 'Erase'),
      identity('d20ap', 'Customer Erase Install (IPSW)', 'Erase'),
    ]);
    expect(selectBuildIdentity(m, { hardwareModel: 'd20ap', behavior: 'erase' }).index).toBe(2);
    const noCustomer = manifest([
      identity('d20ap', 'Research Customer Erase Install (IPSW)', 'Erase'),
      identity('d20ap', 'Developer Erase Install (IPSW)', 'Erase'),
    ]);
    expect(selectBuildIdentity(noCustomer, { hardwareModel: 'd20ap', behavior: 'erase' }).index).toBe(1);
  });

  it('falls back to the first identity of the model for an update, but not for an erase', () => {
    const m = manifest([
      identity('d10ap', 'Customer Erase Install (IPSW)', 'Erase'),
      identity('d20ap', 'Customer Erase Install (IPSW)', 'Erase'),
    ]);
    expect(selectBuildIdentity(m, { hardwareModel: 'd20ap', behavior: 'update' }).index).toBe(1);
    const updateOnly = manifest([identity('d20ap', 'Customer Upgrade Install (IPSW)', 'Update')]);
    expect(() => selectBuildIdentity(updateOnly, { hardwareModel: 'd20ap', behavior: 'erase' })).toThrow(
      /has no erase identity for d20ap/,
    );
  });

  it('uses RestoreBehavior when identities have no Variant (old manifests)', () => {
    const m = manifest([identity('d20ap', undefined, 'Update'), identity('d20ap', undefined, 'Erase')]);
    expect(selectBuildIdentity(m, { hardwareModel: 'd20ap', behavior: 'erase' }).index).toBe(1);
    expect(selectBuildIdentity(m, { hardwareModel: 'd20ap', behavior: 'update' }).index).toBe(0);
  });

  it('maps product types through Ap,ProductType first, then the iPhone table', () => {
    const tagged = manifest([
      identity('x99ap', 'Customer Erase Install (IPSW)', 'Erase', { 'Ap,ProductType': 'iPhone10,1' }),
    ]);
    expect(hardwareModelFor(tagged, 'iPhone10,1')).toBe('x99ap');
    const plain = manifest([identity('d20ap', 'Customer Erase Install (IPSW)', 'Erase')]);
    expect(hardwareModelFor(plain, 'iPhone10,1')).toBe('d20ap');
    expect(supportedModels(plain)).toEqual(['iPhone10,1 (d20ap)']);
    const unknown = manifest([identity('zz1ap', 'Customer Erase Install (IPSW)', 'Erase')], ['iPhone99,9']);
    expect(() => hardwareModelFor(unknown, 'iPhone99,9')).toThrow(BuildIdentityNotFoundError);
    expect(supportedModels(unknown)).toEqual(['iPhone99,9', '(zz1ap)']);
  });

  it('resolves component paths and reports every missing member', () => {
    const m = manifest([identity('d20ap', 'Customer Erase Install (IPSW)', 'Erase')]);
    const id = m.identities[0];
    expect(componentPath(id, 'iBSS')).toBe('Firmware/dfu/iBSS.im4p');
    expect(() => componentPath(id, 'iBEC')).toThrow(FirmwareInvalidError);
    expect(identityPaths(id)).toEqual(['Firmware/dfu/iBSS.im4p', 'os.dmg']);
    expect(() => checkIdentityMembers(id, (p) => p === 'os.dmg')).toThrow(
      /lacks 1 component\(s\) of d20ap .*iBSS \(Firmware\/dfu\/iBSS\.im4p\)/,
    );
    expect(() => checkIdentityMembers(id, () => true)).not.toThrow();
  });

  it('rejects a malformed manifest with a FirmwareInvalidError naming the field', () => {
    expect(() => parseBuildManifest(encodePlistXml({ ProductVersion: '1', BuildIdentities: [] }))).toThrow(
      /BuildManifest\.ProductBuildVersion should be a string/,
    );
    const bad = identity('d20ap', 'v', 'Erase', { ApChipID: 'chip' });
    expect(() => manifest([bad])).toThrow(/BuildIdentities\[0\]\.ApChipID/);
    expect(() => parseBuildManifest(Buffer.from('not a plist'))).toThrow(FirmwareInvalidError);
  });
});
