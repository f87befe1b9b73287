// Acceptance (firmware × simulator): a synthetic IPSW per simulated model opens with IpswArchive,
// selects identities like a real one, and its manifest digests match the IM4P contents; the
// simulated TSS server's tickets pass verifyPersonalizedImage for the right ECID and nonce and fail
// for a wrong nonce, a wrong ECID or a tampered payload; refused builds reach the client as a
// typed signing-refused error through HttpTssClient.
import { createHash, randomBytes } from 'node:crypto';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { SigningRefusedError, failureClassOf } from '@bench/bench-domain';
import {
  SIM_MODELS,
  SimTssServer,
  SyntheticOsImage,
  buildSyntheticIpsw,
  verifyPersonalizedImage,
  verifyRootTicket,
  type SyntheticIpsw,
} from '@bench/device-sim';
import {
  FirmwareServiceError,
  HttpTssClient,
  IpswArchive,
  LocalFirmwareStore,
  checkIdentityMembers,
  hardwareModelFor,
  selectBuildIdentity,
  type BuildIdentity,
  type BuildManifest,
} from '@bench/firmware';
import { buildTssRequest, decodeIm4p, stitchImg4, withTypeTag } from '@bench/protocols';
import { tempDir } from '@bench/testing';
import { parseSize, simIpswCommand } from '../../apps/cli/src/sim/ipsw-command';

const FILE_TAGS: Record<string, string> = {
  iBSS: 'ibss',
  iBEC: 'ibec',
  LLB: 'illb',
  iBoot: 'ibot',
  DeviceTree: 'dtre',
  RestoreDeviceTree: 'dtre',
  KernelCache: 'krnl',
  RestoreKernelCache: 'krnl',
  RestoreRamDisk: 'rdsk',
  SEP: 'sepi',
  RestoreSEP: 'sepi',
  RestoreTrustCache: 'trst',
  StaticTrustCache: 'trst',
  AppleLogo: 'logo',
  RestoreLogo: 'logo',
  RecoveryMode: 'recm',
};
const RENAMED: Record<string, string> = {
  RestoreDeviceTree: 'rdtr',
  RestoreKernelCache: 'rkrn',
  RestoreSEP: 'rsep',
  RestoreTrustCache: 'rtsc',
  RestoreLogo: 'rlgo',
};

const sha384 = (bytes: Uint8Array): Buffer => createHash('sha384').update(bytes).digest();

// Real files, sockets and hashing: give a busy CI machine room.
jest.setTimeout(30_000);

describe('synthetic IPSWs for every simulated model', () => {
  const { dir, remove } = tempDir();
  const built = new Map<string, SyntheticIpsw>();

  beforeAll(async () => {
    for (const model of SIM_MODELS) {
      built.set(
        model.productType,
        await buildSyntheticIpsw({
          productTypes: [model.productType],
          out: path.join(dir, `${model.productType}_18.6.2_22G100_Restore.ipsw`),
          osSize: 3 * 1024 * 1024 + 123,
          manifesto: model.knownToIdevicerestore100,
        }),
      );
    }
  }, 60_000);
  afterAll(() => remove());

  it.each(SIM_MODELS.map((m) => [m.productType, m] as const))(
    '%s: opens, selects, and every digest matches',
    async (productType, model) => {
      const ipsw = built.get(productType) as SyntheticIpsw;
      const archive = await IpswArchive.open(ipsw.path);
      try {
        expect(archive.members().every((m) => m.stored)).toBe(true);
        expect(archive.has('BuildManifesto.plist')).toBe(model.knownToIdevicerestore100);
        const manifest = await archive.readBuildManifest();
        expect(manifest).toMatchObject({
          productVersion: '18.6.2',
          productBuildVersion: '22G100',
          supportedProductTypes: [productType],
        });
        expect(hardwareModelFor(manifest, productType)).toBe(model.hardwareModel);
        const erase = selectBuildIdentity(manifest, {
          productType,
          hardwareModel: model.hardwareModel,
          behavior: 'erase',
          chipId: model.cpid,
          boardId: model.bdid,
        });
        const update = selectBuildIdentity(manifest, {
          productType,
          hardwareModel: model.hardwareModel.toUpperCase(),
          behavior: 'update',
        });
        expect(erase.info).toMatchObject({
          variant: 'Customer Erase Install (IPSW)',
          restoreBehavior: 'Erase',
          deviceClass: model.hardwareModel,
        });
        expect(update.info).toMatchObject({
          variant: 'Customer Upgrade Install (IPSW)',
          restoreBehavior: 'Update',
        });
        expect(erase.components.RestoreRamDisk.path).not.toBe(update.components.RestoreRamDisk.path);

        for (const identity of [erase, update]) {
          checkIdentityMembers(identity, (name) => archive.has(name));
          await expectDigestsMatch(archive, identity);
        }
        await expectOsImageVerifiable(archive, erase, ipsw);

        const restore = await archive.readRestorePlist();
        expect(restore?.deviceMap).toEqual([
          {
            boardConfig: model.hardwareModel,
            cpid: model.cpid,
            bdid: model.bdid,
            platform: `t${model.cpid.toString(16)}`,
          },
        ]);
        if (model.knownToIdevicerestore100) {
          expect(await archive.readMember('BuildManifesto.plist')).toEqual(
            await archive.readMember('BuildManifest.plist'),
          );
        }
      } finally {
        await archive.close();
      }
    },
  );

  async function expectDigestsMatch(archive: IpswArchive, identity: BuildIdentity): Promise<void> {
    for (const component of Object.values(identity.components)) {
      if (component.name === 'OS') continue;
      const file = await archive.readMember(component.path as string);
      const im4p = decodeIm4p(file);
      expect([component.name, im4p.fourcc]).toEqual([component.name, FILE_TAGS[component.name]]);
      expect(component.payloadType).toBe(RENAMED[component.name]);
      // The digest covers the IM4P as the device receives it (tag renamed for Restore* components).
      expect(Buffer.from(component.digest ?? [])).toEqual(sha384(withTypeTag(file, component.payloadType)));
      if (component.payloadType) expect(Buffer.from(component.digest ?? [])).not.toEqual(sha384(file));
      expect(component.trusted).toBe(true);
      expect(component.hasRestoreRequestRules).toBe(true);
    }
    expect(identity.components.LLB.isFirmwarePayload).toBe(true);
    expect(identity.components.SEP.isSecondaryFirmwarePayload).toBe(true);
  }

  async function expectOsImageVerifiable(
    archive: IpswArchive,
    identity: BuildIdentity,
    ipsw: SyntheticIpsw,
  ): Promise<void> {
    const osPath = identity.components.OS.path as string;
    expect(osPath).toBe(ipsw.os.member);
    expect(osPath).not.toContain('/');
    const source = await archive.memberSource(osPath);
    expect(source.size).toBe(ipsw.os.size);
    const image = SyntheticOsImage.fromHeader(await source.read(0, 512));
    expect(image.size).toBe(source.size);
    for (const [offset, length] of [
      [0, 72],
      [300, 1000],
      [1024 * 1024 + 7, 128_000],
      [source.size - 100, 100],
    ]) {
      expect(image.verifyRange(offset, await source.read(offset, length))).toBe(true);
    }
    const tampered = await source.read(4096, 64);
    tampered[10] ^= 1;
    expect(image.firstMismatch(4096, tampered)).toBe(4106);
    // Streamed in ASR's 0x20000 chunks: complete and verified, and the digest the manifest lists.
    const verifier = image.createVerifier();
    const hash = createHash('sha384');
    for (let offset = 0; offset < source.size; offset += 0x20000) {
      const chunk = await source.read(offset, 0x20000);
      verifier.update(chunk);
      hash.update(chunk);
    }
    expect(verifier.result()).toMatchObject({ ok: true, complete: true, received: source.size });
    expect(hash.digest()).toEqual(Buffer.from(identity.components.OS.digest ?? []));
    expect(SyntheticOsImage.create(ipsw.os).verifyRange(0, await source.read(0, 4096))).toBe(true);
  }

  it('is reproducible: the same options give the same bytes', async () => {
    const again = await buildSyntheticIpsw({
      productTypes: ['iPhone10,1'],
      out: path.join(dir, 'again.ipsw'),
      osSize: 3 * 1024 * 1024 + 123,
      manifesto: true,
    });
    expect(again.sha256).toBe(built.get('iPhone10,1')?.sha256);
    const other = await buildSyntheticIpsw({
      productTypes: ['iPhone10,1'],
      out: path.join(dir, 'other.ipsw'),
      osSize: 1 << 20,
      seed: 'x',
    });
    expect(other.sha256).not.toBe(again.sha256);
  });

  it('holds several models in one IPSW, like Apple’s', async () => {
    const multi = await buildSyntheticIpsw({
      productTypes: ['iPhone9,1', 'iPhone10,1'],
      buildVersion: '20H364',
      productVersion: '16.7.12',
      out: path.join(dir, 'multi.ipsw'),
    });
    const archive = await IpswArchive.open(multi.path);
    try {
      const manifest = await archive.readBuildManifest();
      expect(manifest.identities.map((i) => `${i.info.deviceClass} ${i.info.variant}`)).toEqual([
        'd10ap Customer Erase Install (IPSW)',
        'd10ap Customer Upgrade Install (IPSW)',
        'd20ap Customer Erase Install (IPSW)',
        'd20ap Customer Upgrade Install (IPSW)',
      ]);
      expect(manifest.identities[0].raw['Ap,OSLongVersion']).toBe('20.8.364.0.0,0');
      expect(archive.member(multi.os.member).size).toBe(8 * 1024 * 1024);
    } finally {
      await archive.close();
    }
  });

  it('is what `bench sim ipsw` writes (simIpswCommand)', async () => {
    const out = new PassThrough();
    let printed = '';
    out.on('data', (chunk: Buffer) => (printed += chunk.toString()));
    const file = path.join(dir, 'cli.ipsw');
    const code = await simIpswCommand(
      {
        product: 'iPhone9,1,iPhone10,1',
        build: '21H16',
        version: '17.7',
        out: file,
        osSize: '2M',
        manifesto: true,
        seed: 's1',
      },
      out,
    );
    expect(code).toBe(0);
    expect(printed).toMatch(
      /^wrote .*cli\.ipsw \(\d+ bytes\)\niOS 17\.7 \(21H16\) for iPhone9,1, iPhone10,1\nOS image .*\.dmg: 2097152 bytes\n/,
    );
    const archive = await IpswArchive.open(file);
    try {
      expect(archive.has('BuildManifesto.plist')).toBe(true);
      expect((await archive.readBuildManifest()).supportedProductTypes).toEqual(['iPhone9,1', 'iPhone10,1']);
    } finally {
      await archive.close();
    }
    expect(parseSize('1.5G')).toBe(1.5 * 1024 ** 3);
    expect(() => parseSize('lots')).toThrow(RangeError);
  });

  it('serves the synthetic IPSWs through a LocalFirmwareStore, as the restore engine would get them', async () => {
    const store = new LocalFirmwareStore([...built.values()].map((b) => b.path));
    const resolved = await store.resolve('iPhone13,2', 'latest-signed');
    expect(resolved).toMatchObject({ productType: 'iPhone13,2', version: '18.6.2', build: '22G100' });
    await expect(store.resolve('iPhone13,2', '20H364')).rejects.toThrow(
      /no local IPSW for iPhone13,2 build 20H364; have: 22G100/,
    );
    const opened = await store.open(resolved);
    try {
      const identity = selectBuildIdentity(opened.manifest, { hardwareModel: 'd53gap', behavior: 'erase' });
      const os = await opened.memberSource(identity.components.OS.path as string);
      expect(os.size).toBe(3 * 1024 * 1024 + 123);
      expect(decodeIm4p(await opened.readMember(identity.components.iBEC.path as string)).fourcc).toBe(
        'ibec',
      );
    } finally {
      await opened.close();
    }
  });

  describe('signing with the simulated TSS server', () => {
    const key = randomBytes(32);
    const ecid = 0x1a2b3c4d5e6fn;
    const apNonce = randomBytes(32);
    let server: SimTssServer;
    let manifest: BuildManifest;
    let identity: BuildIdentity;
    let archive: IpswArchive;

    beforeAll(async () => {
      server = new SimTssServer({ key });
      await server.listen(0);
      archive = await IpswArchive.open((built.get('iPhone10,1') as SyntheticIpsw).path);
      manifest = await archive.readBuildManifest();
      identity = selectBuildIdentity(manifest, { hardwareModel: 'd20ap', behavior: 'erase' });
    });
    afterAll(async () => {
      await archive.close();
      await server.close();
    });

    function request(overrides: { ecid?: bigint; nonce?: Buffer } = {}) {
      return buildTssRequest(identity, {
        ApECID: overrides.ecid ?? ecid,
        ApNonce: overrides.nonce ?? apNonce,
        ApProductionMode: true,
        ApSecurityMode: true,
        ApChipID: 0x8015,
        ApBoardID: 0x02,
      });
    }

    async function personalized(component: string, ticket: Uint8Array): Promise<Buffer> {
      const im4p = await archive.readMember(identity.components[component].path as string);
      return stitchImg4({
        im4p,
        im4m: ticket,
        component,
        typeTag: identity.components[component].payloadType,
      });
    }

    it('issues a ticket the simulated device accepts for the right ECID and nonce only', async () => {
      const client = new HttpTssClient({ url: server.url, attempts: 2, retryDelayMs: 10 });
      const { ticket } = await client.requestTicket(request());
      expect(verifyRootTicket(ticket, { ecid, key })).toMatchObject({ ok: true });
      expect(verifyRootTicket(ticket, { ecid: ecid + 1n, key })).toMatchObject({
        ok: false,
        reason: 'ecid-mismatch',
      });

      const ibss = await personalized('iBSS', ticket);
      expect(verifyPersonalizedImage(ibss, { ecid, apNonce, key, expectedFourcc: 'ibss' })).toEqual({
        ok: true,
        fourcc: 'ibss',
        component: 'iBSS',
      });
      const kernel = await personalized('RestoreKernelCache', ticket);
      expect(verifyPersonalizedImage(kernel, { ecid, apNonce, key, expectedFourcc: 'rkrn' })).toEqual({
        ok: true,
        fourcc: 'rkrn',
        component: 'RestoreKernelCache',
      });
      for (const component of [
        'iBEC',
        'RestoreRamDisk',
        'RestoreDeviceTree',
        'RestoreTrustCache',
        'RestoreSEP',
        'LLB',
        'iBoot',
        'KernelCache',
        'DeviceTree',
      ]) {
        expect([
          component,
          verifyPersonalizedImage(await personalized(component, ticket), { ecid, apNonce, key }).ok,
        ]).toEqual([component, true]);
      }

      const reason = (
        bytes: Uint8Array,
        expected: Partial<{ ecid: bigint; apNonce: Buffer; key: Buffer; expectedFourcc: string }> = {},
      ) => {
        const result = verifyPersonalizedImage(bytes, { ecid, apNonce, key, ...expected });
        return result.ok ? 'ok' : result.reason;
      };
      expect(reason(ibss, { apNonce: randomBytes(32) })).toBe('nonce-mismatch');
      expect(reason(ibss, { ecid: ecid ^ 0xffn })).toBe('ecid-mismatch');
      expect(reason(ibss, { key: randomBytes(32) })).toBe('bad-signature');
      expect(reason(ibss, { expectedFourcc: 'ibec' })).toBe('tag-mismatch');
      // KernelCache stitched without the restore renaming is not what restored expects.
      const unrenamed = stitchImg4({
        im4p: await archive.readMember(identity.components.KernelCache.path as string),
        im4m: ticket,
      });
      expect(reason(unrenamed, { expectedFourcc: 'rkrn' })).toBe('tag-mismatch');
      // A payload byte damaged in transit.
      const damaged = Buffer.from(ibss);
      damaged[Math.floor(damaged.length / 3)] ^= 0x01;
      expect(reason(damaged)).toBe('digest-mismatch');
      // A ticket byte changed (ECID forged inside the signed body).
      const forged = Buffer.from(ibss);
      const ecidAt = forged.indexOf(Buffer.from('ECID')) + 8;
      forged[ecidAt] ^= 0x01;
      expect(reason(forged)).toBe('bad-signature');
      expect(reason(await archive.readMember(identity.components.iBSS.path as string))).toBe('not-img4');
      // A ticket for another nonce: valid, but not for this boot.
      const other = await client.requestTicket(request({ nonce: randomBytes(32) }));
      expect(reason(await personalized('iBSS', other.ticket))).toBe('nonce-mismatch');
    });

    it('refuses configured builds with status 94, seen by HttpTssClient as SigningRefusedError, never retried', async () => {
      const refusing = new SimTssServer({ key, refusedBuilds: ['22G100'] });
      try {
        await refusing.listen(0);
        const client = new HttpTssClient({ url: refusing.url, attempts: 5, retryDelayMs: 10 });
        let caught: unknown;
        try {
          await client.requestTicket(request());
        } catch (error) {
          caught = error;
        }
        expect(caught).toBeInstanceOf(SigningRefusedError);
        expect(failureClassOf(caught)).toBe('signing-refused');
        expect((caught as SigningRefusedError).evidence).toMatchObject({ statusCode: 94 });
        expect((caught as Error).message).toBe(
          "TSS refused to sign (status 94): This device isn't eligible for the requested build.",
        );
        expect(refusing.stats).toMatchObject({ requests: 1, refused: 1, signed: 0 });
      } finally {
        await refusing.close();
      }
    });

    it('refuses per device through the fault hook (the server sees only ECIDs)', async () => {
      const seen: [bigint, string | undefined][] = [];
      const hooked = new SimTssServer({
        key,
        refuses: (deviceEcid, build) => {
          seen.push([deviceEcid, build]);
          return deviceEcid === 0x42n;
        },
      });
      try {
        await hooked.listen(0);
        const client = new HttpTssClient({ url: hooked.url, attempts: 1 });
        await expect(client.requestTicket(request({ ecid: 0x42n }))).rejects.toBeInstanceOf(
          SigningRefusedError,
        );
        await expect(client.requestTicket(request())).resolves.toMatchObject({ status: 0 });
        expect(seen).toEqual([
          [0x42n, '22G100'],
          [ecid, '22G100'],
        ]);
      } finally {
        await hooked.close();
      }
    });

    it('retries only when no answer comes, within its attempt budget', async () => {
      const client = new HttpTssClient({
        url: 'http://127.0.0.1:9/TSS/controller?action=2',
        attempts: 3,
        retryDelayMs: 10,
      });
      const started = Date.now();
      await expect(client.requestTicket(request())).rejects.toThrow(/did not answer after 3 attempt\(s\)/);
      await expect(client.requestTicket(request())).rejects.toBeInstanceOf(FirmwareServiceError);
      expect(Date.now() - started).toBeLessThan(5000);
    });
  });
});
