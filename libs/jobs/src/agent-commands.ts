// Operator actions the server asks an agent to carry out on its ports (the server never touches
// USB). Redis pub/sub on one channel per host: PUBLISH answers how many agents heard it, so the
// API can say "that bench PC is offline" instead of pretending. The outcome comes back on the
// record stream (`operator.action`) and in the slot's live state.
import type { Redis } from 'ioredis';
import { RESTORE_BEHAVIORS } from '@bench/bench-domain';
import type { PrefetchCommandBody } from './firmware-prefetch';

export type AgentCommand =
  | { action: 'cancel'; portPath: string; runId: string; reason: string; by: string }
  | { action: 'pause'; portPath: string; by: string }
  | { action: 'resume'; portPath: string; by: string }
  | { action: 'power-cycle'; portPath: string; by: string }
  | { action: 'clear-quarantine'; portPath: string; cableReplaced: boolean; by: string }
  /** For a batch: fetch each model's IPSW into the host's store and ask TSS whether it is still signed. */
  | ({ action: 'prefetch'; by: string } & PrefetchCommandBody);

/** The commands about one port (everything but the host-wide `prefetch`). */
export type PortCommand = Exclude<AgentCommand, { action: 'prefetch' }>;

export type AgentAction = AgentCommand['action'];

const ACTIONS: readonly AgentAction[] = [
  'cancel',
  'pause',
  'resume',
  'power-cycle',
  'clear-quarantine',
  'prefetch',
];

export const commandChannel = (hostId: string) => `bench:commands:${hostId}`;

export function parseAgentCommand(text: string): AgentCommand | undefined {
  try {
    const parsed = JSON.parse(text) as Partial<AgentCommand>;
    if (!parsed || typeof parsed !== 'object') return undefined;
    if (!ACTIONS.includes(parsed.action as AgentAction)) return undefined;
    if (parsed.action === 'prefetch') return parsePrefetch(parsed);
    const value = parsed as Partial<PortCommand>;
    if (typeof value.portPath !== 'string' || typeof value.by !== 'string') return undefined;
    if (value.action === 'cancel' && typeof (value as { runId?: unknown }).runId !== 'string')
      return undefined;
    return value as AgentCommand;
  } catch {
    return undefined;
  }
}

function parsePrefetch(value: Partial<AgentCommand>): AgentCommand | undefined {
  const command = value as Partial<Extract<AgentCommand, { action: 'prefetch' }>>;
  if (typeof command.requestId !== 'string' || typeof command.by !== 'string') return undefined;
  if (!RESTORE_BEHAVIORS.includes(command.behavior as never)) return undefined;
  if (!Array.isArray(command.items)) return undefined;
  const wellFormed = command.items.every(
    (item) => !!item && typeof item.productType === 'string' && typeof item.firmware === 'string',
  );
  return wellFormed ? (command as AgentCommand) : undefined;
}

export class AgentCommandSender {
  constructor(private readonly redis: Redis) {}

  /** How many agents received it (0: the host's agent is not running). */
  send(hostId: string, command: AgentCommand): Promise<number> {
    return this.redis.publish(commandChannel(hostId), JSON.stringify(command));
  }
}

/** The agent's side; needs a connection of its own (a subscribed connection does nothing else). */
export class AgentCommandListener {
  constructor(private readonly subscriber: Redis) {}

  async listen(hostId: string, handle: (command: AgentCommand) => void, onBad: (text: string) => void) {
    this.subscriber.on('message', (channel: string, text: string) => {
      if (channel !== commandChannel(hostId)) return;
      const command = parseAgentCommand(text);
      if (command) handle(command);
      else onBad(text);
    });
    await this.subscriber.subscribe(commandChannel(hostId));
  }
}
