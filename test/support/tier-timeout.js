// Jest reads `testTimeout` only from the top-level config, not from a project's: each project
// names its budget in `globals.TIER_TIMEOUT_MS` and this sets it before the tests (a file's own
// jest.setTimeout still wins).
/* global jest */
jest.setTimeout(globalThis.TIER_TIMEOUT_MS);
