// Three tiers (see docs/testing.md): unit specs beside the code, integration and e2e under test/.
// @swc/jest compiles TypeScript (with decorator metadata for Nest); `npm run typecheck` does the type checking.
const path = require('node:path');

const swcTransform = [
  '@swc/jest',
  {
    jsc: {
      target: 'es2022',
      parser: { syntax: 'typescript', decorators: true },
      transform: { legacyDecorator: true, decoratorMetadata: true },
      keepClassNames: true,
    },
    module: { type: 'commonjs' },
  },
];

const common = {
  rootDir: __dirname,
  testEnvironment: 'node',
  transform: { '^.+\\.(t|j)s$': swcTransform },
  moduleFileExtensions: ['ts', 'js', 'json'],
  moduleNameMapper: { '^@bench/([a-z-]+)$': path.join(__dirname, 'libs/$1/src') },
  modulePathIgnorePatterns: ['<rootDir>/dist/'],
  // plist@4 ships ES modules only; Jest's CommonJS runtime needs it compiled like our sources.
  transformIgnorePatterns: ['/node_modules/(?!plist/)'],
};

/** A project's per-test budget (see test/support/tier-timeout.js for why not `testTimeout`). */
function tierTimeout(ms) {
  return {
    globals: { TIER_TIMEOUT_MS: ms },
    setupFilesAfterEnv: ['<rootDir>/test/support/tier-timeout.js'],
  };
}

module.exports = {
  projects: [
    {
      ...common,
      displayName: 'unit',
      // Unit specs do no I/O, but some do real crypto (RSA keys for pair records): slow on a busy CI machine.
      ...tierTimeout(30_000),
      testMatch: [
        '<rootDir>/apps/*/src/**/*.spec.ts',
        '<rootDir>/libs/*/src/**/*.spec.ts',
        '<rootDir>/benchmarks/**/*.spec.ts',
      ],
    },
    {
      ...common,
      displayName: 'integration',
      testMatch: ['<rootDir>/test/integration/**/*.test.ts'],
      // These tests start processes (the CLI, bench start, real tools); on a busy 2-core CI
      // machine a CLI start alone can take seconds. Timing targets live in benchmarks.
      ...tierTimeout(60_000),
      globalSetup: '<rootDir>/test/global-setup.ts',
    },
    {
      ...common,
      displayName: 'e2e',
      testMatch: ['<rootDir>/test/e2e/**/*.e2e.ts'],
      ...tierTimeout(120_000),
      globalSetup: '<rootDir>/test/global-setup.ts',
    },
    {
      ...common,
      // `npm run test:chaos` (not part of `npm test`): kills, restarts, outages and malformed
      // input against whole processes; each file records its figures for the summary line.
      displayName: 'chaos',
      testMatch: ['<rootDir>/test/chaos/**/*.chaos.ts'],
      ...tierTimeout(10 * 60_000),
      globalSetup: '<rootDir>/test/chaos/global-setup.ts',
    },
  ],
};
