// Rows, the batch report and its HTML from one literal night of records: done first try, done
// after a transient-usb retry, bricked (device-hardware), attention (signing-refused), stuck,
// and a run that ended on a quarantined port.
import { dfuButtonsFor } from '@bench/bench-domain';
import { buildBatchReport, retriedRows, whatToDo } from './batch-report';
import { buildDeviceRows, outcomeOf } from './device-rows';
import { escapeHtml, formatDuration, formatTime, morningReportHtml } from './morning-report-html';
import type { AttemptRecord, BatchRecords, EventRecord, RunRecord } from './records';

const T0 = Date.parse('2025-06-01T01:00:00.000Z');
const at = (minutes: number) => new Date(T0 + minutes * 60_000);
const SHA = 'c0ffee'.padEnd(64, '0');

let nextEventId = 1;
function event(kind: string, minutes: number, fields: Partial<EventRecord>, payload: unknown): EventRecord {
  return {
    id: nextEventId++,
    at: at(minutes),
    kind,
    runId: null,
    slotId: null,
    deviceEcid: null,
    payload,
    ...fields,
  };
}

function attempt(
  number: number,
  start: number,
  end: number,
  failureClass?: string,
  message?: string,
): AttemptRecord {
  return {
    number,
    outcome: failureClass ? 'failed' : 'done',
    failureClass: failureClass ?? null,
    message: message ?? null,
    lastStage: failureClass ? 'send-filesystem' : null,
    startedAt: at(start),
    endedAt: at(end),
  };
}

function run(id: string, slot: number, ecid: string, fields: Partial<RunRecord>): RunRecord {
  return {
    id,
    batchId: 'batch-1',
    slotId: `slot-${slot}`,
    hostId: 'pc1',
    portPath: `1-1.${slot}`,
    deviceEcid: ecid,
    firmwareSelector: 'latest',
    behavior: 'erase',
    state: 'done',
    lastStage: 'reboot',
    failureClass: null,
    failureMessage: null,
    fromVersion: null,
    toVersion: null,
    firmwareBuild: null,
    operator: 'night-batch',
    createdAt: at(0),
    startedAt: at(1),
    finishedAt: at(11),
    attempts: [attempt(1, 1, 11)],
    ...fields,
  };
}

const ECID = (n: number) => n.toString(16).toUpperCase().padStart(16, '0');

function sampleNight(): BatchRecords {
  nextEventId = 1;
  const runs = [
    run('run-first', 1, ECID(1), {}),
    run('run-retried', 2, ECID(2), {
      attempts: [
        attempt(1, 1, 3, 'transient-usb', 'the phone detached during send-filesystem'),
        attempt(2, 4, 14),
      ],
      finishedAt: at(14),
    }),
    run('run-quarantined', 3, ECID(3), {
      state: 'failed',
      failureClass: 'transient-usb',
      failureMessage:
        'port 1-1.3 quarantined: transient failures with 3 phones; move the phone to another slot',
      attempts: [attempt(1, 1, 2, 'transient-usb', 'USB I/O error')],
      finishedAt: at(2),
    }),
    run('run-bricked', 4, ECID(4), {
      state: 'failed',
      failureClass: 'device-hardware',
      failureMessage: 'restored StatusMsg 53 — the phone needs repair',
      attempts: [attempt(1, 1, 8, 'device-hardware', 'restored StatusMsg 53')],
      finishedAt: at(8),
    }),
    run('run-unsigned', 10, ECID(10), {
      state: 'failed',
      failureClass: 'signing-refused',
      failureMessage: 'TSS refused 22G86 for this device (status 94)',
      attempts: [attempt(1, 1, 2, 'signing-refused', 'TSS status 94')],
      finishedAt: at(2),
    }),
    run('run-stuck', 6, ECID(6), {
      state: 'failed',
      failureClass: 'stuck',
      failureMessage: 'watchdog: no progress in boot-ramdisk for 240 s. Put the phone in DFU mode.',
      attempts: [attempt(1, 1, 5, 'stuck', 'no progress'), attempt(2, 6, 9, 'stuck', 'no progress')],
      finishedAt: at(9),
    }),
  ];
  const seen = (ecid: string, minutes: number, productVersion: string, productType = 'iPhone14,2') =>
    event(
      'device.seen',
      minutes,
      { deviceEcid: ecid },
      { kind: 'device.seen', device: { ecid, productType, productVersion } },
    );
  const forRun = (runId: string) => ({ runId });
  const events: EventRecord[] = [
    seen(ECID(1), 0, '17.5'),
    seen(ECID(2), 0, '16.7.10'),
    seen(ECID(6), 0, '16.0', 'iPhone10,3'),
    event('restore.firmware', 2, forRun('run-first'), {
      event: { type: 'firmware', version: '18.6', build: '22G86' },
    }),
    event('attempt.ended', 11, forRun('run-first'), {
      outcome: 'done',
      productVersion: '18.6',
      buildVersion: '22G86',
      ipsw: { fileName: 'iPhone14,2_18.6_22G86_Restore.ipsw', sizeBytes: 8_000_000_000, sha256: SHA },
    }),
    // After the restore the phone is seen again on its new version: not its "from".
    seen(ECID(1), 12, '18.6'),
    event('restore.firmware', 5, forRun('run-retried'), {
      event: { type: 'firmware', version: '18.6', build: '22G86' },
    }),
    event('attempt.ended', 14, forRun('run-retried'), {
      outcome: 'done',
      productVersion: '18.6',
      buildVersion: '22G86',
    }),
    event('slot.state', 8, forRun('run-bricked'), { state: 'bricked', runId: 'run-bricked' }),
    event('slot.state', 9, forRun('run-stuck'), { state: 'stuck', runId: 'run-stuck' }),
    event('slot.state', 2, forRun('run-quarantined'), { state: 'quarantined', runId: 'run-quarantined' }),
    event(
      'port.quarantined',
      2,
      { slotId: 'slot-3' },
      {
        hostId: 'pc1',
        portPath: '1-1.3',
        reason: 'transient failures with 3 phones',
        phones: [ECID(3), 'AA', 'BB'],
      },
    ),
  ];
  return {
    batch: {
      id: 'batch-1',
      name: 'Night shelf A',
      firmwareSelector: 'latest',
      behavior: 'erase',
      state: 'finished',
      scheduledAt: at(0),
      createdBy: 'max',
      createdAt: at(-60),
      startedAt: at(0),
      finishedAt: at(15),
    },
    runs,
    devices: [
      { ecid: ECID(1), serialNumber: 'F2LXK0ABCD12', productType: 'iPhone14,2', hardwareModel: 'd63ap' },
      { ecid: ECID(6), serialNumber: null, productType: 'iPhone10,3', hardwareModel: null },
    ],
    slots: [1, 2, 3, 4, 6, 10].map((n) => ({
      id: `slot-${n}`,
      hostId: 'pc1',
      benchId: 'shelf-a',
      portPath: `1-1.${n}`,
      label: `A${n}`,
      quarantinedAt: n === 3 ? at(2) : null,
      quarantineReason: n === 3 ? 'transient failures with 3 phones' : null,
    })),
    events,
  };
}

describe('device rows', () => {
  const rows = buildDeviceRows(sampleNight());
  const row = (runId: string) => rows.find((r) => r.runId === runId)!;

  it('has one row per run, in slot order (A2 before A10)', () => {
    expect(rows.map((r) => r.slot)).toEqual(['A1', 'A2', 'A3', 'A4', 'A6', 'A10']);
  });

  it('fills a done run from the record and its events', () => {
    expect(row('run-first')).toMatchObject({
      ecid: ECID(1),
      serialNumber: 'F2LXK0ABCD12',
      model: 'iPhone14,2',
      hardwareModel: 'd63ap',
      fromVersion: '17.5',
      toVersion: '18.6',
      build: '22G86',
      ipswSha256: SHA,
      ipswFile: 'iPhone14,2_18.6_22G86_Restore.ipsw',
      slot: 'A1',
      operator: 'night-batch',
      startedAt: '2025-06-01T01:01:00.000Z',
      finishedAt: '2025-06-01T01:11:00.000Z',
      durationSeconds: 600,
      outcome: 'done',
      failureClass: null,
      failureMessage: null,
    });
  });

  it('takes the model from a sighting when the device row lacks it, and leaves unknowns null', () => {
    expect(row('run-retried')).toMatchObject({
      model: 'iPhone14,2',
      serialNumber: null,
      fromVersion: '16.7.10',
      ipswSha256: null,
      durationSeconds: 780,
    });
    expect(row('run-retried').attempts.map((a) => [a.number, a.failureClass, a.outcome])).toEqual([
      [1, 'transient-usb', 'failed'],
      [2, null, 'done'],
    ]);
  });

  it('tells runs not started yet (queued, or held back by a paused batch) from running ones', () => {
    expect(outcomeOf({ state: 'queued', failureClass: null }, {})).toBe('queued');
    expect(outcomeOf({ state: 'held', failureClass: null }, {})).toBe('queued');
    expect(outcomeOf({ state: 'running', failureClass: null }, {})).toBe('running');
    expect(outcomeOf({ state: 'failed', failureClass: null }, {})).toBe('failed');
    expect(outcomeOf({ state: 'failed', failureClass: 'unknown' }, {})).toBe('attention');
  });

  it('says how each failed run left its slot (recorded state, else the default policy)', () => {
    expect(row('run-bricked').outcome).toBe('bricked');
    expect(row('run-stuck').outcome).toBe('stuck');
    expect(row('run-quarantined').outcome).toBe('quarantined');
    expect(row('run-unsigned')).toMatchObject({
      outcome: 'attention',
      failureClass: 'signing-refused',
      failureMessage: 'TSS refused 22G86 for this device (status 94)',
      toVersion: null,
    });
  });
});

describe('batch report', () => {
  const report = buildBatchReport(sampleNight(), {
    shop: 'Fix-It Ltd',
    now: new Date('2025-06-01T06:00:00Z'),
  });

  it('counts the night', () => {
    expect(report.summary).toEqual({
      devices: 6,
      done: 2,
      doneFirstTry: 1,
      retried: 1,
      needsHuman: 4,
      bricked: 1,
      attention: 1,
      stuck: 1,
      quarantinedRuns: 1,
      quarantinedSlots: 1,
      cancelled: 0,
      unfinished: 0,
      successRate: 2 / 6,
      totalAttempts: 8,
      medianDurationSeconds: 690,
      failuresByClass: { 'transient-usb': 2, 'device-hardware': 1, 'signing-refused': 1, stuck: 2 },
    });
    expect(retriedRows(report.devices).map((r) => r.runId)).toEqual(['run-retried']);
  });

  it('says who needs a human, why and what to do', () => {
    const byRun = Object.fromEntries(report.needsHuman.map((e) => [e.runId, e]));
    expect(Object.keys(byRun).sort()).toEqual([
      'run-bricked',
      'run-quarantined',
      'run-stuck',
      'run-unsigned',
    ]);
    expect(byRun['run-bricked']).toMatchObject({ outcome: 'bricked', failureClass: 'device-hardware' });
    expect(byRun['run-bricked'].action).toMatch(/repair/);
    expect(byRun['run-unsigned'].action).toMatch(/no longer signs this build/);
    expect(byRun['run-stuck'].action).toContain(dfuButtonsFor('iPhone10,3'));
    expect(byRun['run-quarantined'].action).toMatch(/swap the cable of A3/);
  });

  it('lists the quarantined port with its reason and phones', () => {
    expect(report.quarantinedSlots).toEqual([
      {
        hostId: 'pc1',
        portPath: '1-1.3',
        slot: 'A3',
        since: '2025-06-01T01:02:00.000Z',
        reason: 'transient failures with 3 phones',
        phones: [ECID(3), 'AA', 'BB'],
        stillQuarantined: true,
      },
    ]);
  });

  it('names the build a signing refusal is about when it is known', () => {
    expect(
      whatToDo({
        outcome: 'attention',
        failureClass: 'signing-refused',
        model: null,
        slot: 'A1',
        build: '22G86',
      }),
    ).toMatch(/no longer signs 22G86/);
  });
});

describe('morning report HTML', () => {
  it('escapes every value that came from a phone or a person', () => {
    const night = sampleNight();
    night.batch.name = '<script>alert("batch")</script>';
    night.slots[0].label = 'A1"><img src=x onerror=alert(1)>';
    night.runs[3].failureMessage = '<b>StatusMsg 53</b> & more';
    night.runs[0].operator = "o'hara";
    const html = morningReportHtml(buildBatchReport(night, { shop: 'Shop <&>', now: new Date(T0) }));
    expect(html).not.toMatch(/<script|<img|<b>StatusMsg/);
    expect(html).toContain('&lt;script&gt;alert(&quot;batch&quot;)&lt;/script&gt;');
    expect(html).toContain('A1&quot;&gt;&lt;img src=x onerror=alert(1)&gt;');
    expect(html).toContain('&lt;b&gt;StatusMsg 53&lt;/b&gt; &amp; more');
    expect(html).toContain('o&#39;hara');
    expect(html).toContain('Shop &lt;&amp;&gt;');
  });

  it('has the sections, print rules and no external resource', () => {
    const html = morningReportHtml(
      buildBatchReport(sampleNight(), { shop: 'Fix-It Ltd', now: new Date('2025-06-01T06:00:00Z') }),
    );
    for (const id of ['summary', 'needs-human', 'retried', 'quarantined', 'done', 'devices'])
      expect(html).toContain(`<section id="${id}">`);
    expect(html).toMatch(/@page \{ size: A4 landscape/);
    expect(html).toMatch(/@media print/);
    expect(html).toMatch(/thead \{ display: table-header-group; \}/);
    expect(html).not.toMatch(/(src|href)=/);
    expect(html).toContain('Needs a human (4)');
    expect(html).toContain('Done after retries (1)');
    expect(html).toContain('#1 transient-usb; #2 done');
    expect(html).toContain(escapeHtml(dfuButtonsFor('iPhone10,3')));
    expect(html).toContain('2025-06-01 06:00 UTC');
  });

  it('formats times and durations the same on every machine', () => {
    expect(formatTime('2025-06-01T01:02:03.000Z')).toBe('2025-06-01 01:02 UTC');
    expect(formatTime(null)).toBe('—');
    expect(formatDuration(42)).toBe('42 s');
    expect(formatDuration(125)).toBe('2 min 5 s');
    expect(formatDuration(3 * 3600 + 120)).toBe('3 h 2 min');
  });
});
