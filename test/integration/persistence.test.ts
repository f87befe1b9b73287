// The persistence suite runs against both databases bench supports: SQLite (the embedded
// default) and PostgreSQL (the machine's real server), with the committed migrations.
import { parseEcid } from '@bench/bench-domain';
import {
  BenchDatabase,
  DeviceRepository,
  DuplicateRecordError,
  EventRepository,
  loadMigrations,
  mapPrismaErrors,
  migrate,
  MigrationError,
  TopologyRepository,
} from '@bench/persistence';
import { postgresTestDatabase, sqliteTestDatabase, type TestDatabase } from '@bench/testing';

describe.each([
  ['sqlite', sqliteTestDatabase],
  ['postgresql', postgresTestDatabase],
])('persistence on %s', (_kind, makeDatabase) => {
  let testDb: TestDatabase;
  let db: BenchDatabase;

  beforeAll(async () => {
    testDb = makeDatabase();
    db = BenchDatabase.fromUrl(testDb.url);
    const result = await db.migrate();
    expect(result.applied).toEqual(loadMigrations(db.kind).map((m) => m.name));
  });

  afterAll(async () => {
    await db.close();
    await testDb.drop();
  });

  it('applies each migration once', async () => {
    const again = await db.migrate();
    expect(again.applied).toEqual([]);
    expect(again.alreadyApplied).toBe(loadMigrations(db.kind).length);
  });

  it('refuses a migration that changed after it was applied', async () => {
    const changed = loadMigrations(db.kind).map((m, i) => (i === 0 ? { ...m, checksum: 'edited' } : m));
    await expect(migrate(db.target, changed)).rejects.toThrow(MigrationError);
    await expect(migrate(db.target, changed)).rejects.toThrow(/was changed after it was applied/);
  });

  it('mirrors the configured topology, keeping slots that left the config', async () => {
    const topology = new TopologyRepository(db);
    await topology.syncHost('pc1', 'Front bench', [
      {
        id: 'shelf-a',
        slots: [
          { portPath: '1-1.1', label: 'A1', gridRow: 1, gridCol: 1 },
          { portPath: '1-1.2', label: 'A2' },
        ],
      },
    ]);
    await topology.syncHost('pc1', 'Front bench', [
      { id: 'shelf-a', slots: [{ portPath: '1-1.2', label: 'B2' }] },
    ]);
    const slots = await topology.listSlots('pc1');
    expect(slots.map((s) => [s.portPath, s.label])).toEqual([
      ['1-1.1', null],
      ['1-1.2', 'B2'],
    ]);
    expect(slots[1].state).toBe('empty');
  });

  it('keys devices by ECID and merges what each mode tells', async () => {
    const devices = new DeviceRepository(db);
    const ecid = parseEcid('0x1A2B3C4D5E6F70');
    await devices.recordSeen({ ecid, chipId: 0x8015, boardId: 0x0c });
    await devices.recordSeen({ ecid, udid: '00008015-001A2B3C4D5E6F70', productType: 'iPhone10,1' });
    expect(await devices.find(ecid)).toMatchObject({
      ecid: '001A2B3C4D5E6F70',
      chipId: 0x8015,
      boardId: 0x0c,
      productType: 'iPhone10,1',
    });
  });

  it('keeps the event log in append order with JSON payloads', async () => {
    const events = new EventRepository(db);
    const slot = (await new TopologyRepository(db).listSlots('pc1'))[0];
    const run = await db.prisma.run.create({
      data: { slotId: slot.id, hostId: 'pc1', portPath: slot.portPath, firmwareSelector: 'latest' },
    });
    await events.append({ kind: 'run.created', runId: run.id, payload: { by: 'test' } });
    await events.append({ kind: 'stage.started', runId: run.id, payload: { stage: 'prepare' } });
    const logged = await events.listForRun(run.id);
    expect(logged.map((e) => [e.kind, e.payload])).toEqual([
      ['run.created', { by: 'test' }],
      ['stage.started', { stage: 'prepare' }],
    ]);
    expect(logged[0].id).toBeLessThan(logged[1].id);
  });

  it('turns unique violations into a domain error', async () => {
    const create = () =>
      mapPrismaErrors('user alice', () =>
        db.prisma.user.create({ data: { username: 'alice', passwordHash: 'x', role: 'admin' } }),
      );
    await create();
    await expect(create()).rejects.toThrow(DuplicateRecordError);
  });

  it('numbers attempts uniquely per run', async () => {
    const slot = (await new TopologyRepository(db).listSlots('pc1'))[0];
    const run = await db.prisma.run.create({
      data: { slotId: slot.id, hostId: 'pc1', portPath: slot.portPath, firmwareSelector: '22G100' },
    });
    await db.prisma.attempt.create({ data: { runId: run.id, number: 1 } });
    await expect(
      mapPrismaErrors('attempt 1', () => db.prisma.attempt.create({ data: { runId: run.id, number: 1 } })),
    ).rejects.toThrow('attempt 1 already exists');
  });
});
