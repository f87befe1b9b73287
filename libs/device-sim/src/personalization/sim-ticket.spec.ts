import { createHash, randomBytes } from 'node:crypto';
import { decodeIm4m, encodeIm4p, stitchImg4, withTypeTag } from '@bench/protocols';
import { issueSimTicket, verifyPersonalizedImage, verifyRootTicket } from './sim-ticket';

const key = randomBytes(32);
const ecid = 0x000a1b2c3d4e5f60n;
const apNonce = randomBytes(32);
const kernel = encodeIm4p({ fourcc: 'krnl', description: 'kc', payload: randomBytes(4000) });
const ibss = encodeIm4p({ fourcc: 'ibss', description: 'iBoot', payload: randomBytes(2000) });
const sha384 = (b: Uint8Array): Buffer => createHash('sha384').update(b).digest();

function ticket(overrides: { nonce?: Buffer; ecid?: bigint } = {}): Buffer {
  return issueSimTicket(
    {
      ecid: overrides.ecid ?? ecid,
      apNonce: overrides.nonce ?? apNonce,
      chipId: 0x8015,
      boardId: 2,
      securityDomain: 1,
      productionMode: true,
      securityMode: true,
      components: {
        iBSS: { digest: sha384(ibss) },
        RestoreKernelCache: { digest: sha384(withTypeTag(kernel, 'rkrn')), epro: true },
        SomethingUnknown: { digest: Buffer.alloc(48) },
        ftap: { digest: new Uint8Array(0) },
      },
    },
    key,
  );
}

describe('simulated tickets', () => {
  it('carry Apple’s MANP properties and one entry per known component tag', () => {
    const decoded = decodeIm4m(ticket());
    expect(decoded.manp).toMatchObject({
      ECID: ecid,
      BNCH: apNonce,
      CHIP: 0x8015n,
      BORD: 2n,
      SDOM: 1n,
      CPRO: true,
      CSEC: true,
    });
    expect(Object.keys(decoded.images).sort()).toEqual(['ibss', 'rkrn']);
    expect(decoded.images.rkrn).toMatchObject({ EPRO: true, ESEC: true });
  });

  it('accept a correctly personalized image and name its component', () => {
    expect(
      verifyPersonalizedImage(stitchImg4({ im4p: ibss, im4m: ticket() }), { ecid, apNonce, key }),
    ).toEqual({
      ok: true,
      fourcc: 'ibss',
      component: 'iBSS',
    });
    const restoreKernel = stitchImg4({ im4p: kernel, im4m: ticket(), component: 'RestoreKernelCache' });
    expect(
      verifyPersonalizedImage(restoreKernel, { ecid, apNonce, key, expectedFourcc: 'rkrn' }),
    ).toMatchObject({ ok: true, fourcc: 'rkrn' });
  });

  it.each([
    ['nonce-mismatch', () => stitchImg4({ im4p: ibss, im4m: ticket({ nonce: randomBytes(32) }) }), {}],
    ['ecid-mismatch', () => stitchImg4({ im4p: ibss, im4m: ticket({ ecid: 7n }) }), {}],
    ['bad-signature', () => stitchImg4({ im4p: ibss, im4m: ticket() }), { key: randomBytes(32) }],
    ['tag-mismatch', () => stitchImg4({ im4p: kernel, im4m: ticket() }), {}],
    ['tag-mismatch', () => stitchImg4({ im4p: ibss, im4m: ticket() }), { expectedFourcc: 'ibec' }],
    [
      'digest-mismatch',
      () =>
        stitchImg4({
          im4p: encodeIm4p({ fourcc: 'ibss', description: 'iBoot', payload: randomBytes(2000) }),
          im4m: ticket(),
        }),
      {},
    ],
    ['not-img4', () => ibss, {}],
  ] as const)('reject with %s', (reason, make, expected) => {
    expect(verifyPersonalizedImage(make(), { ecid, apNonce, key, ...expected })).toMatchObject({
      ok: false,
      reason,
    });
  });

  it('check root tickets for signature and ECID', () => {
    expect(verifyRootTicket(ticket(), { ecid, key })).toMatchObject({ ok: true });
    expect(verifyRootTicket(ticket(), { ecid: ecid + 1n, key })).toMatchObject({
      ok: false,
      reason: 'ecid-mismatch',
    });
    expect(verifyRootTicket(ticket(), { ecid, key: randomBytes(32) })).toMatchObject({
      ok: false,
      reason: 'bad-signature',
    });
    expect(verifyRootTicket(Buffer.from('not a ticket'), { ecid, key })).toMatchObject({
      ok: false,
      reason: 'not-img4',
    });
  });
});
