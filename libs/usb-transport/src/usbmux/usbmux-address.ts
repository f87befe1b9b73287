// Where usbmuxd listens, resolved the way libusbmuxd reads USBMUXD_SOCKET_ADDRESS:
// `UNIX:/path` → unix socket; `host:port` or `[ipv6]:port` → TCP; unset → /var/run/usbmuxd.
import net from 'node:net';
import { CancelledError } from '@bench/bench-domain';
import { UsbmuxError } from './usbmux-errors';

export const DEFAULT_USBMUXD_SOCKET_PATH = '/var/run/usbmuxd';

export type UsbmuxAddress = { kind: 'unix'; path: string } | { kind: 'tcp'; host: string; port: number };

/**
 * Parses a USBMUXD_SOCKET_ADDRESS value (the caller passes `env.usbmuxdSocketAddress`).
 * Deviation from libusbmuxd: it silently falls back to the default socket when the value does
 * not parse; we refuse it, because a bench pointed at the wrong daemon should say so.
 */
export function parseUsbmuxAddress(value: string | undefined): UsbmuxAddress {
  if (value === undefined || value.trim() === '') return { kind: 'unix', path: DEFAULT_USBMUXD_SOCKET_PATH };
  if (value.startsWith('UNIX:')) {
    const path = value.slice(5);
    if (path === '') throw badAddress(value, 'UNIX: needs a socket path');
    return { kind: 'unix', path };
  }
  const colon = value.lastIndexOf(':');
  if (colon < 0) throw badAddress(value, 'expected UNIX:/path, host:port or [ipv6]:port');
  const portText = value.slice(colon + 1);
  const port = /^\d{1,5}$/.test(portText) ? Number(portText) : NaN;
  if (!(port >= 1 && port <= 65535)) throw badAddress(value, `port '${portText}' is not 1–65535`);
  let host = value.slice(0, colon);
  if (host.startsWith('[')) {
    if (!host.endsWith(']')) throw badAddress(value, 'unterminated [ipv6] host');
    host = host.slice(1, -1);
  }
  if (host === '') throw badAddress(value, 'empty host');
  return { kind: 'tcp', host, port };
}

export function describeUsbmuxAddress(address: UsbmuxAddress): string {
  if (address.kind === 'unix') return `unix:${address.path}`;
  return address.host.includes(':') ? `[${address.host}]:${address.port}` : `${address.host}:${address.port}`;
}

export interface ConnectOptions {
  timeoutMs?: number;
  signal?: AbortSignal;
}

/** Opens a socket to usbmuxd; a missing/refusing/forbidden daemon is a host-setup UsbmuxError. */
export function connectUsbmuxSocket(
  address: UsbmuxAddress,
  options: ConnectOptions = {},
): Promise<net.Socket> {
  const timeoutMs = options.timeoutMs ?? 5_000;
  const where = describeUsbmuxAddress(address);
  return new Promise((resolve, reject) => {
    if (options.signal?.aborted) {
      reject(new CancelledError(`connecting to usbmuxd at ${where} was cancelled`));
      return;
    }
    const socket =
      address.kind === 'unix'
        ? net.createConnection({ path: address.path })
        : net.createConnection({ host: address.host, port: address.port });
    const finish = (error?: Error) => {
      clearTimeout(timer);
      socket.off('connect', onConnect);
      socket.off('error', onError);
      options.signal?.removeEventListener('abort', onAbort);
      if (error) {
        socket.destroy();
        reject(error);
      } else resolve(socket);
    };
    const onConnect = () => finish();
    const onError = (error: NodeJS.ErrnoException) =>
      finish(
        new UsbmuxError(
          'daemon-unreachable',
          `cannot reach usbmuxd at ${where}: ${error.code ?? error.message}`,
          'connect',
          undefined,
          {},
          { cause: error },
        ),
      );
    const onAbort = () => finish(new CancelledError(`connecting to usbmuxd at ${where} was cancelled`));
    const timer = setTimeout(() => finish(unreachable(where, `no answer within ${timeoutMs} ms`)), timeoutMs);
    socket.once('connect', onConnect);
    socket.once('error', onError);
    options.signal?.addEventListener('abort', onAbort, { once: true });
  });
}

function unreachable(where: string, why: string): UsbmuxError {
  return new UsbmuxError('daemon-unreachable', `cannot reach usbmuxd at ${where}: ${why}`, 'connect');
}

function badAddress(value: string, why: string): UsbmuxError {
  return new UsbmuxError('bad-address', `usbmuxd address '${value}' is not usable: ${why}`, 'connect');
}
