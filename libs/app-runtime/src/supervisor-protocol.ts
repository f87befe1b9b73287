// Messages a child app sends to the `bench start` supervisor over the fork IPC channel.
export type AppName = 'server' | 'bench-agent';

export interface ReadyMessage {
  type: 'ready';
  app: AppName;
  port: number;
  pid: number;
}

export type ChildMessage = ReadyMessage;

export function isChildMessage(value: unknown): value is ChildMessage {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as { type?: unknown }).type === 'ready' &&
    typeof (value as { port?: unknown }).port === 'number'
  );
}
