import type { HostView } from '@bench/events';
import {
  formatLastSeen,
  isSlotOffline,
  mergeSnapshotHosts,
  offlineHostIds,
  slotNeedsMe,
  upsertHost,
  UNDER_WAY_STATES,
} from './hosts';
import { slotView } from './slot-view.fixture';
import { SLOT_STATES } from './presentation';

function host(overrides: Partial<HostView> & { id: string }): HostView {
  return { name: overrides.id, online: true, lastSeenAt: null, ...overrides };
}

describe('offlineHostIds and isSlotOffline', () => {
  it('takes presence from the host view only: a slot is offline when its host is, whatever its state says', () => {
    const offline = offlineHostIds([host({ id: 'a' }), host({ id: 'b', online: false })]);
    expect([...offline]).toEqual(['b']);
    expect(isSlotOffline(slotView({ id: '1', hostId: 'b', state: 'restoring' }), offline)).toBe(true);
    expect(isSlotOffline(slotView({ id: '2', hostId: 'a', state: 'restoring' }), offline)).toBe(false);
    // A host the floor has no view of is not called offline.
    expect(isSlotOffline(slotView({ id: '3', hostId: 'zz' }), offline)).toBe(false);
  });
});

describe('slotNeedsMe', () => {
  const offline = new Set(['b']);

  it('flags every state with a run under way on an offline host, and nothing calm', () => {
    const flagged = SLOT_STATES.filter((state) =>
      slotNeedsMe(slotView({ id: state, hostId: 'b', state }), offline),
    );
    expect(flagged.sort()).toEqual(
      [...UNDER_WAY_STATES, 'bricked', 'stuck', 'attention', 'quarantined'].sort(),
    );
  });

  it('on an online host, only the states that need a human', () => {
    expect(slotNeedsMe(slotView({ id: '1', hostId: 'a', state: 'restoring' }), offline)).toBe(false);
    expect(slotNeedsMe(slotView({ id: '2', hostId: 'a', state: 'attention' }), offline)).toBe(true);
  });
});

describe('upsertHost', () => {
  it('merges a changed host into its place and appends a new one', () => {
    const hosts = [host({ id: 'a', name: 'Bench A' }), host({ id: 'b' })];
    const changed = upsertHost(hosts, host({ id: 'a', name: 'Bench A', online: false, lastSeenAt: 'x' }));
    expect(changed.map((h) => [h.id, h.online])).toEqual([
      ['a', false],
      ['b', true],
    ]);
    expect(changed[1]).toBe(hosts[1]);
    expect(upsertHost(hosts, host({ id: 'c' })).map((h) => h.id)).toEqual(['a', 'b', 'c']);
  });

  it('ignores a view computed before the one shown; a view without checkedAt always applies', () => {
    const hosts = [host({ id: 'a', online: false, checkedAt: 2000 })];
    expect(upsertHost(hosts, host({ id: 'a', online: true, checkedAt: 1999 }))).toBe(hosts);
    expect(upsertHost(hosts, host({ id: 'a', online: true, checkedAt: 2000 }))[0].online).toBe(true);
    expect(upsertHost(hosts, host({ id: 'a', online: true }))[0].online).toBe(true);
  });
});

describe('mergeSnapshotHosts', () => {
  it('lists the snapshot hosts, keeping a newer socket view of any of them', () => {
    const known = [host({ id: 'a', online: false, checkedAt: 3000 }), host({ id: 'gone' })];
    const merged = mergeSnapshotHosts(known, [
      host({ id: 'a', online: true, checkedAt: 2500 }),
      host({ id: 'b', checkedAt: 2500 }),
    ]);
    expect(merged.map((h) => [h.id, h.online])).toEqual([
      ['a', false],
      ['b', true],
    ]);
  });
});

describe('formatLastSeen', () => {
  const now = Date.parse('2026-03-01T12:00:00.000Z');
  const ago = (ms: number) => new Date(now - ms).toISOString();

  it('reads like a person says it, from seconds to days', () => {
    expect(formatLastSeen(ago(25_000), now)).toBe('last seen 25 s ago');
    expect(formatLastSeen(ago(119_000), now)).toBe('last seen 119 s ago');
    expect(formatLastSeen(ago(5 * 60_000), now)).toBe('last seen 5 min ago');
    expect(formatLastSeen(ago(3 * 3_600_000), now)).toBe('last seen 3 h ago');
    expect(formatLastSeen(ago(3 * 86_400_000), now)).toBe('last seen 3 days ago');
  });

  it('never says a negative time (the agent clock ahead of the browser) and handles no heartbeat at all', () => {
    expect(formatLastSeen(ago(-4_000), now)).toBe('last seen 0 s ago');
    expect(formatLastSeen(null, now)).toBe('never seen');
    expect(formatLastSeen('not a date', now)).toBe('never seen');
  });
});
