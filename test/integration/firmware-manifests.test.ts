// Acceptance (firmware): identity selection and TSS requests on Apple's real BuildManifests
// (shared/fixtures/firmware: iOS 13.5.1 for iPhone9,1/9,3/10,1/10,4 and iOS 26.2.1 for
// iPhone13,2/13,3, whose Upgrade identities also say RestoreBehavior = Erase and which carries
// Research variants).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { failureClassOf } from '@bench/bench-domain';
import {
  BuildIdentityNotFoundError,
  hardwareModelFor,
  parseBuildManifest,
  selectBuildIdentity,
  type BuildManifest,
  type RestoreKind,
} from '@bench/firmware';
import { buildTssRequest, isPlistDict, type PlistDict } from '@bench/protocols';
import { REPO_ROOT } from '@bench/testing';

const FIXTURES = path.resolve(REPO_ROOT, '../shared/fixtures/firmware');
const IOS13 = 'BuildManifest_iPhone9,1_9,3_10,1_10,4_13.5.1_17F80.plist';
const IOS26 = 'BuildManifest_iPhone13,2_13,3_26.2.1_23C71.plist';

function load(name: string): BuildManifest {
  return parseBuildManifest(readFileSync(path.join(FIXTURES, name)), name);
}

const manifests: Record<string, BuildManifest> = { [IOS13]: load(IOS13), [IOS26]: load(IOS26) };

describe('parsing the real manifests', () => {
  it('reads versions, product types and typed identities', () => {
    const ios13 = manifests[IOS13];
    expect(ios13.productVersion).toBe('13.5.1');
    expect(ios13.productBuildVersion).toBe('17F80');
    expect([...ios13.supportedProductTypes].sort()).toEqual([
      'iPhone10,1',
      'iPhone10,4',
      'iPhone9,1',
      'iPhone9,3',
    ]);
    expect(ios13.identities).toHaveLength(8);
    const d10 = ios13.identities[1];
    expect(d10).toMatchObject({ apChipId: 0x8010, apBoardId: 0x08, apSecurityDomain: 1 });
    expect(d10.info).toMatchObject({
      deviceClass: 'd10ap',
      variant: 'Customer Erase Install (IPSW)',
      restoreBehavior: 'Erase',
    });
    expect(d10.components.RestoreKernelCache).toMatchObject({
      path: 'kernelcache.release.iphone9',
      payloadType: 'rkrn',
      trusted: true,
      hasRestoreRequestRules: true,
    });
    expect(d10.components.OS.digest).toHaveLength(48);
    expect(d10.components.LLB.isFirmwarePayload).toBe(true);
    const ios26 = manifests[IOS26];
    expect(ios26.identities[0]).toMatchObject({
      apChipId: 0x8101,
      apBoardId: 0x0c,
      productType: 'iPhone13,2',
    });
  });
});

describe('selecting the build identity', () => {
  const cases: [string, string, string][] = [
    [IOS13, 'iPhone9,1', 'd10ap'],
    [IOS13, 'iPhone9,3', 'd101ap'],
    [IOS13, 'iPhone10,1', 'd20ap'],
    [IOS13, 'iPhone10,4', 'd201ap'],
    [IOS26, 'iPhone13,2', 'd53gap'],
    [IOS26, 'iPhone13,3', 'd53pap'],
  ];

  it('covers every product the manifests support', () => {
    for (const name of [IOS13, IOS26]) {
      expect(
        cases
          .filter(([file]) => file === name)
          .map(([, product]) => product)
          .sort(),
      ).toEqual([...manifests[name].supportedProductTypes].sort());
    }
  });

  it.each(
    cases.flatMap(([file, product, model]) =>
      (['erase', 'update'] as RestoreKind[]).map((b) => [file, product, model, b] as const),
    ),
  )('%s: %s → %s (%s)', (file, productType, model, behavior) => {
    const manifest = manifests[file];
    expect(hardwareModelFor(manifest, productType)).toBe(model);
    const identity = selectBuildIdentity(manifest, { productType, hardwareModel: model, behavior });
    expect(identity.info.deviceClass).toBe(model);
    expect(identity.info.variant).toBe(
      behavior === 'erase' ? 'Customer Erase Install (IPSW)' : 'Customer Upgrade Install (IPSW)',
    );
    expect(identity.info.variant).not.toMatch(/Research/);
    // iOS 26.2.1 marks its Upgrade identities Erase too; the Variant decides.
    expect(identity.info.restoreBehavior).toBe(file === IOS26 || behavior === 'erase' ? 'Erase' : 'Update');
  });

  it('picks the Upgrade identity of 26.2.1 even though RestoreBehavior says Erase (by index)', () => {
    const manifest = manifests[IOS26];
    expect(selectBuildIdentity(manifest, { hardwareModel: 'd53gap', behavior: 'update' }).index).toBe(2);
    expect(selectBuildIdentity(manifest, { hardwareModel: 'd53gap', behavior: 'erase' }).index).toBe(0);
    expect(selectBuildIdentity(manifest, { hardwareModel: 'd53pap', behavior: 'update' }).index).toBe(3);
  });

  it('matches the hardware model case-insensitively and cross-checks CPID/BDID', () => {
    const manifest = manifests[IOS13];
    expect(
      selectBuildIdentity(manifest, { hardwareModel: 'D20AP', behavior: 'erase', chipId: 0x8015, boardId: 2 })
        .info.deviceClass,
    ).toBe('d20ap');
    expect(() =>
      selectBuildIdentity(manifest, { hardwareModel: 'd20ap', behavior: 'erase', chipId: 0x8010 }),
    ).toThrow(BuildIdentityNotFoundError);
  });

  it('takes a user-given variant only when it matches exactly (Research only on request)', () => {
    const manifest = manifests[IOS26];
    const research = selectBuildIdentity(manifest, {
      hardwareModel: 'd53gap',
      behavior: 'erase',
      variant: 'Research Customer Erase Install (IPSW)',
    });
    expect(research.index).toBe(4);
    expect(() =>
      selectBuildIdentity(manifest, {
        hardwareModel: 'd53gap',
        behavior: 'erase',
        variant: 'Customer Erase',
      }),
    ).toThrow(/no variant 'Customer Erase' for d53gap; it has: Customer Erase Install \(IPSW\);/);
  });

  it('refuses a model the IPSW does not support, naming it and what the IPSW supports', () => {
    const manifest = manifests[IOS26];
    let caught: unknown;
    try {
      selectBuildIdentity(manifest, {
        productType: 'iPhone12,1',
        hardwareModel: 'n104ap',
        behavior: 'erase',
      });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(BuildIdentityNotFoundError);
    expect(failureClassOf(caught)).toBe('firmware-invalid');
    expect((caught as Error).message).toBe(
      'iOS 26.2.1 (23C71) does not support iPhone12,1 (n104ap). This IPSW supports: iPhone13,2 (d53gap), iPhone13,3 (d53pap)',
    );
    expect(() => hardwareModelFor(manifests[IOS13], 'iPhone13,2')).toThrow(
      /iOS 13\.5\.1 \(17F80\) does not support iPhone13,2\. This IPSW supports: iPhone10,4 \(d201ap\), iPhone9,1 \(d10ap\)/,
    );
    // A device class with no identity at all (the product type unknown to the caller).
    expect(() =>
      selectBuildIdentity(manifests[IOS13], { hardwareModel: 'd22ap', behavior: 'update' }),
    ).toThrow(/has no build identity for d22ap/);
  });
});

describe('a TSS request built from a real identity', () => {
  const device = {
    ApECID: 0x1a2b3c4d5e6fn,
    ApNonce: Buffer.alloc(32, 0xab),
    SepNonce: Buffer.alloc(20, 0xcd),
    ApProductionMode: true,
    ApSecurityMode: true,
  };

  function components(request: PlistDict): string[] {
    return Object.keys(request)
      .filter((key) => isPlistDict(request[key]))
      .sort();
  }

  it('13.5.1 d10ap: every personalizable component, nothing else, Info stripped', () => {
    const identity = selectBuildIdentity(manifests[IOS13], { hardwareModel: 'd10ap', behavior: 'erase' });
    const request = buildTssRequest(identity, device, { uuid: () => '00000000-0000-0000-0000-000000000001' });
    expect(request).toMatchObject({
      ApChipID: 0x8010,
      ApBoardID: 0x08,
      ApSecurityDomain: 1,
      ApECID: device.ApECID,
    });
    expect(request.UniqueBuildID).toEqual(identity.uniqueBuildId);
    const names = components(request);
    // 35 Manifest entries; BasebandFirmware is excluded by name; SE,* have neither Trusted nor rules.
    expect(names).toHaveLength(30);
    for (const absent of ['BasebandFirmware', 'SE,Bootloader', 'SE,Firmware', 'SE,MigrationOS', 'SE,OS']) {
      expect(names).not.toContain(absent);
    }
    for (const present of [
      'iBSS',
      'iBEC',
      'LLB',
      'iBoot',
      'RestoreRamDisk',
      'RestoreKernelCache',
      'SEP',
      'OS',
      'AOP',
      'Homer',
      'ftap',
      'rfts',
    ]) {
      expect(names).toContain(present);
    }
    // By hand from the plist: AOP has no Trusted key but RestoreRequestRules, so it is asked for.
    expect(request.AOP).toEqual({ Digest: identity.components.AOP.digest, EPRO: true, ESEC: true });
    expect(request.iBSS).toEqual({
      BuildString: 'iBoot-5540.120.17~20',
      Digest: identity.components.iBSS.digest,
      Trusted: true,
      EPRO: true,
      ESEC: true,
    });
    // ftap is Trusted without a Digest: it gets an empty one.
    expect(request.ftap).toEqual({ Trusted: true, Digest: new Uint8Array(0), EPRO: true, ESEC: true });
    for (const name of names) expect(request[name]).not.toHaveProperty('Info');
  });

  it('26.2.1 d53gap: FTAB, co-processor and baseband entries are left out; Ap,* keys copied', () => {
    const identity = selectBuildIdentity(manifests[IOS26], { hardwareModel: 'd53gap', behavior: 'update' });
    const request = buildTssRequest(identity, device, { uuid: () => 'u' });
    expect(request).toMatchObject({
      'Ap,ProductType': 'iPhone13,2',
      'Ap,OSLongVersion': '23.3.71.0.0,0',
      'Ap,Target': 'D53gAP',
      ApChipID: 0x8101,
      ApBoardID: 0x0c,
    });
    expect(request.PearlCertificationRootPub).toBeInstanceOf(Uint8Array);
    const names = components(request);
    // 91 entries minus BMU×2, BasebandFirmware, Rap,*×2 (IsFTAB), SE,Rap*×2, SE,UpdatePayload,
    // Savage×14, Yonkers×12, eUICC×2.
    expect(names).toHaveLength(55);
    for (const absent of [
      'Rap,RTKitOS',
      'SE,UpdatePayload',
      'Savage,B0-Prod-Patch',
      'Yonkers,SysTopPatch0',
      'BMU,DigestMap',
      'eUICC,Main',
    ]) {
      expect(names).not.toContain(absent);
    }
    // Trusted = false with rules is still requested, keeping Trusted false.
    expect(request['Ap,HapticAssets']).toMatchObject({ Trusted: false, EPRO: true, ESEC: true });
    expect(request['Cryptex1,SystemOS']).toMatchObject({ EPRO: true, ESEC: true });
  });

  it('sets EPRO/ESEC as each component’s rules say for a demoting device in ROM DFU', () => {
    const identity = selectBuildIdentity(manifests[IOS26], { hardwareModel: 'd53gap', behavior: 'erase' });
    const request = buildTssRequest(
      identity,
      { ...device, DemotionPolicy: 'Demote', ApInRomDFU: true },
      { uuid: () => 'u' },
    );
    // iBSS (by hand): DPRO rule holds; EPRO true by current mode, then false by the demote+ROM-DFU rule.
    expect(request.iBSS).toMatchObject({ DPRO: true, EPRO: false, ESEC: true });
    // LLB: raw-mode rules: EPRO true, then false by the demote rule (no ROM-DFU condition).
    expect(request.LLB).toMatchObject({ DPRO: true, EPRO: false, ESEC: true });
    // iBoot: raw rules without DPRO.
    expect(request.iBoot).toMatchObject({ EPRO: false, ESEC: true });
    expect(request.iBoot).not.toHaveProperty('DPRO');
    // SEP: its own rules; the DSEC rules need production mode off.
    expect(request.SEP).toMatchObject({ EPRO: true, ESEC: true });
    expect(request.SEP).not.toHaveProperty('DSEC');
  });

  it('sets EPRO false for a development-fused device and DSEC for SEP demotion', () => {
    const identity = selectBuildIdentity(manifests[IOS13], { hardwareModel: 'd20ap', behavior: 'erase' });
    const dev = buildTssRequest(
      identity,
      { ...device, ApProductionMode: false, DemotionPolicy: '' },
      { uuid: () => 'u' },
    );
    expect(dev.iBEC).toMatchObject({ EPRO: false, ESEC: true });
    expect(dev.KernelCache).toMatchObject({ EPRO: false, ESEC: true });
    // SEP rule 3: ApDemotionPolicyOverride "" + raw production false + raw security true → DSEC, ESEC false.
    expect(dev.SEP).toMatchObject({ EPRO: false, ESEC: false, DSEC: true });
  });
});
