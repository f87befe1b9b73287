// The live connection: socket.io on the same origin, authenticated with the session's token,
// subscribed to everything. socket.io-client reconnects by itself (a server restart, a Wi-Fi
// drop); each (re)connect calls onConnect so the app re-fetches the floor it may have missed.
import { useEffect, useRef, useState } from 'preact/hooks';
import { io, type Socket } from 'socket.io-client';
import type {
  AlertMessage,
  ClientToServerEvents,
  HostView,
  ServerToClientEvents,
  SlotProgress,
  SlotView,
} from '@bench/events';

export type BenchSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

export interface SocketHandlers {
  onConnect: () => void;
  onSlot: (slot: SlotView) => void;
  onProgress: (progress: SlotProgress) => void;
  onAlert: (alert: AlertMessage) => void;
  onHost: (host: HostView) => void;
  /** The server refused the handshake (token revoked or expired): the app checks its session. */
  onRefused: () => void;
}

/** After a refused handshake socket.io stops trying; try again this much later (the server may be starting). */
const RETRY_AFTER_REFUSAL_MS = 3000;

export type ConnectionState = 'connecting' | 'connected' | 'reconnecting';

export function useBenchSocket(token: string | null, handlers: SocketHandlers): ConnectionState {
  const [connection, setConnection] = useState<ConnectionState>('connecting');
  // Handlers change on every render; the socket lives as long as the token.
  const latest = useRef(handlers);
  latest.current = handlers;

  useEffect(() => {
    if (!token) return undefined;
    const socket: BenchSocket = io({ path: '/socket.io', auth: { token } });
    let retry: ReturnType<typeof setTimeout> | undefined;
    socket.on('connect', () => {
      setConnection('connected');
      socket.emit('subscribe', { all: true });
      latest.current.onConnect();
    });
    socket.on('disconnect', () => setConnection('reconnecting'));
    socket.on('connect_error', () => {
      setConnection((current) => (current === 'connected' ? 'reconnecting' : current));
      if (socket.active) return;
      latest.current.onRefused();
      retry = setTimeout(() => socket.connect(), RETRY_AFTER_REFUSAL_MS);
    });
    socket.on('slot.updated', (slot) => latest.current.onSlot(slot));
    socket.on('slot.progress', (progress) => latest.current.onProgress(progress));
    socket.on('alert', (alert) => latest.current.onAlert(alert));
    socket.on('host.updated', (host) => latest.current.onHost(host));
    return () => {
      clearTimeout(retry);
      socket.removeAllListeners();
      socket.disconnect();
    };
  }, [token]);

  return connection;
}
