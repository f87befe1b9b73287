import { loadEnv } from './env';

describe('the shop that signs restore certificates', () => {
  it('defaults to the host id and a key under var/keys, with the public key beside it', () => {
    expect(loadEnv({ BENCH_HOST_ID: 'front-pc' }, '/srv/bench').shop).toEqual({
      name: 'front-pc',
      keyFile: '/srv/bench/var/keys/shop-ed25519.pem',
      publicKeyFile: '/srv/bench/var/keys/shop-ed25519.pub.pem',
    });
  });

  it('takes the name and key file from the environment', () => {
    expect(
      loadEnv({ BENCH_SHOP_NAME: ' Fix-It Ltd ', BENCH_SHOP_KEY: 'secrets/shop.key' }, '/srv/bench').shop,
    ).toEqual({
      name: 'Fix-It Ltd',
      keyFile: '/srv/bench/secrets/shop.key',
      publicKeyFile: '/srv/bench/secrets/shop.key.pub.pem',
    });
  });

  it('refuses an empty shop name', () => {
    expect(() => loadEnv({ BENCH_SHOP_NAME: '  ' })).toThrow(/BENCH_SHOP_NAME=" {2}": expected a shop name/);
  });
});
