// Several bench PCs on one server: which hosts are offline, what that means for their slots, and
// how a host's last heartbeat reads. Host presence has one source of truth, the
// server's host view (GET /api/floor `hosts`, kept current by `host.updated`): a slot is offline
// when its host is, whatever state its agent last reported, because a dead agent reports nothing.
import type { HostView, SlotView } from '@bench/events';
import { needsMe, type SlotState } from './vocabulary';

/** The ids of the hosts whose agent the server has not heard from lately. */
export function offlineHostIds(hosts: readonly HostView[]): ReadonlySet<string> {
  return new Set(hosts.filter((host) => !host.online).map((host) => host.id));
}

/** A slot's host is offline: what the tile shows is its last known state, not what happens now. */
export function isSlotOffline(slot: SlotView, offline: ReadonlySet<string>): boolean {
  return offline.has(slot.hostId);
}

/**
 * States in which a run was under way when the host went away. Nobody is driving the phone while
 * its agent is down, so such a slot needs a human (restart the agent, check the PC) even though
 * its state alone does not say so.
 */
export const UNDER_WAY_STATES = [
  'queued',
  'waiting-power',
  'restoring',
  'reconnecting',
  'retrying',
] as const satisfies readonly SlotState[];

export function wasUnderWay(state: SlotState): boolean {
  return (UNDER_WAY_STATES as readonly SlotState[]).includes(state);
}

/**
 * Whether a slot needs a human: its state says so, or its host is offline with a run under way
 * on it. An offline host's idle, empty or done slots wait quietly for the agent to come back.
 */
export function slotNeedsMe(slot: SlotView, offline: ReadonlySet<string>): boolean {
  return needsMe(slot.state) || (isSlotOffline(slot, offline) && wasUnderWay(slot.state));
}

/**
 * A newer host view replaces an older one. Views computed by the server carry `checkedAt`; one
 * without it (an older server) is taken as it comes.
 */
export function isNewerHost(incoming: HostView, known: HostView | undefined): boolean {
  if (!known || incoming.checkedAt === undefined || known.checkedAt === undefined) return true;
  return incoming.checkedAt >= known.checkedAt;
}

/** A host change from the socket: replaces the host's view, or adds a host the floor did not list. */
export function upsertHost(hosts: readonly HostView[], host: HostView): HostView[] {
  const index = hosts.findIndex((known) => known.id === host.id);
  if (index === -1) return [...hosts, host];
  if (!isNewerHost(host, hosts[index])) return hosts as HostView[];
  const next = [...hosts];
  next[index] = { ...hosts[index], ...host };
  return next;
}

/**
 * A fresh snapshot's hosts, except where the socket already delivered a newer view of a host (a
 * host that went offline while the snapshot was in flight stays offline).
 */
export function mergeSnapshotHosts(known: readonly HostView[], snapshot: readonly HostView[]): HostView[] {
  return snapshot.map((host) => {
    const mine = known.find((candidate) => candidate.id === host.id);
    return mine && !isNewerHost(host, mine) ? mine : host;
  });
}

/** How long ago a host was last heard from, as a person reads it: "last seen 25 s ago". */
export function formatLastSeen(lastSeenAt: string | null, now: number): string {
  if (!lastSeenAt) return 'never seen';
  const at = Date.parse(lastSeenAt);
  if (Number.isNaN(at)) return 'never seen';
  const seconds = Math.max(0, Math.round((now - at) / 1000));
  if (seconds < 120) return `last seen ${seconds} s ago`;
  const minutes = Math.round(seconds / 60);
  if (minutes < 120) return `last seen ${minutes} min ago`;
  const hours = Math.round(minutes / 60);
  if (hours < 48) return `last seen ${hours} h ago`;
  return `last seen ${Math.round(hours / 24)} days ago`;
}
