// The live floor over socket.io: a browser authenticates in the handshake (the same bearer
// tokens as the API), joins rooms (everything, a bench, a slot) and receives the typed events of
// @bench/events. Emits go through the Redis adapter, so whichever server relays an update, every
// server's browsers get it.
import { Injectable } from '@nestjs/common';
import {
  ConnectedSocket,
  MessageBody,
  SubscribeMessage,
  WebSocketGateway,
  WebSocketServer,
  type OnGatewayInit,
} from '@nestjs/websockets';
import type { Server, Socket } from 'socket.io';
import {
  ROOMS,
  type AlertMessage,
  type ClientToServerEvents,
  type HostView,
  type ServerToClientEvents,
  type SlotView,
} from '@bench/events';
import { AuthService, type AuthUser } from '../auth/auth.service';
import { bearerToken } from '@bench/persistence';

interface SocketData {
  user: AuthUser;
}

type FloorServer = Server<ClientToServerEvents, ServerToClientEvents, Record<string, never>, SocketData>;
type FloorSocket = Socket<ClientToServerEvents, ServerToClientEvents, Record<string, never>, SocketData>;

const ROOM_ID = /^[A-Za-z0-9_.:-]{1,128}$/;

/** The rooms a subscribe/unsubscribe message names; undefined when the message is malformed. */
export function roomsOf(message: unknown): string[] | undefined {
  if (!message || typeof message !== 'object' || Array.isArray(message)) return undefined;
  const { all, benchId, slotId, ...rest } = message as Record<string, unknown>;
  if (Object.keys(rest).length > 0) return undefined;
  const rooms: string[] = [];
  if (all !== undefined) {
    if (typeof all !== 'boolean') return undefined;
    if (all) rooms.push(ROOMS.all);
  }
  for (const [value, room] of [
    [benchId, ROOMS.bench],
    [slotId, ROOMS.slot],
  ] as const) {
    if (value === undefined) continue;
    if (typeof value !== 'string' || !ROOM_ID.test(value)) return undefined;
    rooms.push(room(value));
  }
  return rooms;
}

@Injectable()
// No client bundle from here: the dashboard bundles socket.io-client itself.
@WebSocketGateway({ path: '/socket.io', serveClient: false })
export class FloorGateway implements OnGatewayInit {
  @WebSocketServer() private server!: FloorServer;
  /** Updates relayed by this server (for tests and metrics). */
  relayed = 0;

  constructor(private readonly auth: AuthService) {}

  afterInit(server: FloorServer): void {
    server.use((socket, next) => {
      const fromAuth = (socket.handshake.auth as { token?: unknown } | undefined)?.token;
      const token =
        typeof fromAuth === 'string' ? fromAuth : bearerToken(socket.handshake.headers.authorization);
      this.auth.authenticate(token).then(
        (user) => {
          if (!user) return next(new Error('unauthorized: log in first (missing or invalid token)'));
          socket.data.user = user;
          next();
        },
        () => next(new Error('unavailable: cannot check credentials now')),
      );
    });
  }

  @SubscribeMessage('subscribe')
  async subscribe(@ConnectedSocket() socket: FloorSocket, @MessageBody() message: unknown) {
    const rooms = roomsOf(message);
    if (!rooms) return { ok: false, error: 'expected { all?: boolean, benchId?: string, slotId?: string }' };
    await socket.join(rooms);
    return { ok: true, rooms };
  }

  @SubscribeMessage('unsubscribe')
  async unsubscribe(@ConnectedSocket() socket: FloorSocket, @MessageBody() message: unknown) {
    const rooms = roomsOf(message);
    if (!rooms) return { ok: false, error: 'expected { benchId?: string, slotId?: string }' };
    for (const room of rooms) await socket.leave(room);
    return { ok: true, rooms };
  }

  emitSlot(slot: SlotView): void {
    this.relayed++;
    this.server.to([ROOMS.all, ROOMS.bench(slot.benchId), ROOMS.slot(slot.id)]).emit('slot.updated', slot);
  }

  emitAlert(alert: AlertMessage, benchId: string): void {
    this.server.to([ROOMS.all, ROOMS.bench(benchId), ROOMS.slot(alert.slotId)]).emit('alert', alert);
  }

  /** Every server watches the heartbeats itself, so host changes go to its own browsers only. */
  emitHostLocally(host: HostView): void {
    this.server.local.to(ROOMS.all).emit('host.updated', host);
  }
}
