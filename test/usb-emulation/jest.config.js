// Jest for programs that must run inside the umockdev testbed (LD_PRELOAD + UMOCKDEV_DIR): the
// integration tests start it as a child with the emulation's environment. Same transform and
// aliases as the integration project; no global setup (the parent ran it).
const path = require('node:path');
const { projects } = require('../../jest.config.js');

const integration = projects.find((project) => project.displayName === 'integration');

module.exports = {
  ...integration,
  displayName: 'usb-emulation',
  rootDir: path.resolve(__dirname, '../..'),
  testMatch: ['<rootDir>/test/usb-emulation/**/*.umockdev.ts'],
  globalSetup: undefined,
};
