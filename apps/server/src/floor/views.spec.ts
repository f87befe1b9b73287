import { HOST_ONLINE_MS, HOST_WATCH_MS, hostViews } from './views';

describe('hostViews', () => {
  const now = Date.parse('2026-03-01T12:00:00.000Z');
  const iso = (at: number) => new Date(at).toISOString();

  it('is online while the last heartbeat is within the online window, offline from then on', () => {
    const rows = [
      { id: 'fresh', name: 'fresh', lastSeenAt: null },
      { id: 'edge', name: 'edge', lastSeenAt: null },
      { id: 'stale', name: 'stale', lastSeenAt: null },
    ];
    const views = hostViews(
      rows,
      { fresh: now - 5_000, edge: now - HOST_ONLINE_MS + 1, stale: now - HOST_ONLINE_MS },
      now,
    );
    expect(views.map((host) => [host.id, host.online])).toEqual([
      ['edge', true],
      ['fresh', true],
      ['stale', false],
    ]);
    expect(views.every((host) => host.checkedAt === now)).toBe(true);
  });

  it('shows a dead agent offline within 30 s, and rides out a late heartbeat (agent beats every 5 s)', () => {
    const agentHeartbeatMs = 5_000; // HEARTBEAT_MS in apps/bench-agent/src/agent.service.ts
    expect(HOST_ONLINE_MS + HOST_WATCH_MS).toBeLessThan(30_000);
    expect(HOST_ONLINE_MS).toBeGreaterThanOrEqual(2 * agentHeartbeatMs);
  });

  it('lists a host that heartbeats before (or without) the record knowing it', () => {
    const views = hostViews([{ id: 'pc1', name: 'pc1', lastSeenAt: null }], { 'pc2-new': now - 1_000 }, now);
    expect(views).toEqual([
      { id: 'pc1', name: 'pc1', online: false, lastSeenAt: null, checkedAt: now },
      { id: 'pc2-new', name: 'pc2-new', online: true, lastSeenAt: iso(now - 1_000), checkedAt: now },
    ]);
  });

  it('says when a host was last seen: its heartbeat, else what the record kept', () => {
    const recorded = new Date(now - 3_600_000);
    const views = hostViews(
      [
        { id: 'a', name: 'a', lastSeenAt: recorded },
        { id: 'b', name: 'b', lastSeenAt: recorded },
      ],
      { b: now - 40_000 },
      now,
    );
    expect(views.map((host) => [host.id, host.online, host.lastSeenAt])).toEqual([
      ['a', false, recorded.toISOString()],
      ['b', false, iso(now - 40_000)],
    ]);
  });

  it("names a host as the server's config does, else as the record does", () => {
    const views = hostViews(
      [
        { id: 'pc1', name: 'pc1', lastSeenAt: null },
        { id: 'pc2', name: 'pc2', lastSeenAt: null },
      ],
      { pc3: now },
      now,
      { pc1: 'Front bench', pc3: 'Back room' },
    );
    expect(views.map((host) => host.name)).toEqual(['Front bench', 'pc2', 'Back room']);
  });
});
