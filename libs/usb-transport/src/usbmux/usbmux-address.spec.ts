import { connectUsbmuxSocket, describeUsbmuxAddress, parseUsbmuxAddress } from './usbmux-address';
import { UsbmuxError } from './usbmux-errors';

describe('usbmuxd address (USBMUXD_SOCKET_ADDRESS)', () => {
  it('defaults to the unix socket /var/run/usbmuxd', () => {
    expect(parseUsbmuxAddress(undefined)).toEqual({ kind: 'unix', path: '/var/run/usbmuxd' });
    expect(parseUsbmuxAddress('')).toEqual({ kind: 'unix', path: '/var/run/usbmuxd' });
  });

  it('reads UNIX:/path, host:port and [ipv6]:port like libusbmuxd', () => {
    expect(parseUsbmuxAddress('UNIX:/tmp/mux.sock')).toEqual({ kind: 'unix', path: '/tmp/mux.sock' });
    expect(parseUsbmuxAddress('127.0.0.1:27015')).toEqual({ kind: 'tcp', host: '127.0.0.1', port: 27015 });
    expect(parseUsbmuxAddress('192.168.179.1:27015')).toEqual({
      kind: 'tcp',
      host: '192.168.179.1',
      port: 27015,
    });
    expect(parseUsbmuxAddress('localhost:1')).toEqual({ kind: 'tcp', host: 'localhost', port: 1 });
    expect(parseUsbmuxAddress('[::1]:27015')).toEqual({ kind: 'tcp', host: '::1', port: 27015 });
    expect(describeUsbmuxAddress(parseUsbmuxAddress('[::1]:27015'))).toBe('[::1]:27015');
  });

  it('refuses values that name no socket with a host-setup error', () => {
    for (const bad of ['UNIX:', 'nohost', ':27015', 'host:0', 'host:65536', 'host:27x', '[::1:27015']) {
      let caught: unknown;
      try {
        parseUsbmuxAddress(bad);
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(UsbmuxError);
      expect(caught).toMatchObject({ kind: 'bad-address', failureClass: 'host-setup' });
    }
  });

  it('reports a missing daemon socket as host-setup', async () => {
    await expect(
      connectUsbmuxSocket({ kind: 'unix', path: '/nonexistent/usbmuxd-socket' }, { timeoutMs: 2000 }),
    ).rejects.toMatchObject({ kind: 'daemon-unreachable', failureClass: 'host-setup' });
  });
});
