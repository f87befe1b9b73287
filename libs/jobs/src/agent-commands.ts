// Operator actions the server asks an agent to carry out on its ports (the server never touches
// USB). Redis pub/sub on one channel per host: PUBLISH answers how many agents heard it, so the
// API can say "that bench PC is offline" instead of pretending. The outcome comes back on the
// record stream (`operator.action`) and in the slot's live state.
import type { Redis } from 'ioredis';

export type AgentCommand =
  | { action: 'cancel'; portPath: string; runId: string; reason: string; by: string }
  | { action: 'pause'; portPath: string; by: string }
  | { action: 'resume'; portPath: string; by: string }
  | { action: 'power-cycle'; portPath: string; by: string }
  | { action: 'clear-quarantine'; portPath: string; cableReplaced: boolean; by: string };

export type AgentAction = AgentCommand['action'];

const ACTIONS: readonly AgentAction[] = ['cancel', 'pause', 'resume', 'power-cycle', 'clear-quarantine'];

export const commandChannel = (hostId: string) => `bench:commands:${hostId}`;

export function parseAgentCommand(text: string): AgentCommand | undefined {
  try {
    const value = JSON.parse(text) as Partial<AgentCommand>;
    if (!value || typeof value !== 'object') return undefined;
    if (!ACTIONS.includes(value.action as AgentAction)) return undefined;
    if (typeof value.portPath !== 'string' || typeof value.by !== 'string') return undefined;
    if (value.action === 'cancel' && typeof (value as { runId?: unknown }).runId !== 'string')
      return undefined;
    return value as AgentCommand;
  } catch {
    return undefined;
  }
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
