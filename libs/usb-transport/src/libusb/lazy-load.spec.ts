// Importing the library must not load the native `usb` addon (the simulator, the engine and
// most tests never touch real hardware); only creating the real bus does.
jest.mock('usb', () => {
  throw new Error('the usb addon was loaded');
});

describe('@bench/usb-transport', () => {
  it('loads the native usb package only when the real bus is created', () => {
    jest.isolateModules(() => {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const transport = require('../index') as typeof import('../index');
      expect(typeof transport.LibusbBus).toBe('function');
      expect(() => transport.createLibusbBus()).toThrow('the usb addon was loaded');
    });
  });
});
