// socket.io with the Redis adapter: an emit on any server reaches the browsers of every server
// on the same Redis (design §3: several servers behind one Redis).
import type { INestApplicationContext } from '@nestjs/common';
import { IoAdapter } from '@nestjs/platform-socket.io';
import { createAdapter } from '@socket.io/redis-adapter';
import type { Redis } from 'ioredis';
import type { Server, ServerOptions } from 'socket.io';
import { createRedis } from '@bench/jobs';

export class RedisIoAdapter extends IoAdapter {
  private pub?: Redis;
  private sub?: Redis;

  constructor(
    app: INestApplicationContext,
    private readonly redisUrl: string,
  ) {
    super(app);
  }

  override createIOServer(port: number, options?: ServerOptions): Server {
    const server = super.createIOServer(port, options) as Server;
    this.pub = createRedis(this.redisUrl, 'worker');
    this.sub = this.pub.duplicate();
    for (const connection of [this.pub, this.sub]) connection.on('error', () => undefined);
    server.adapter(createAdapter(this.pub, this.sub, { key: 'bench:socket.io' }));
    return server;
  }

  override async close(server: Server): Promise<void> {
    await super.close(server);
    this.pub?.disconnect();
    this.sub?.disconnect();
  }
}
