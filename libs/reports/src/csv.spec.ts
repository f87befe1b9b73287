import { csvField, deviceRowsCsv, DEVICE_CSV_COLUMNS, toCsv } from './csv';
import type { DeviceReportRow } from '@bench/events';

describe('RFC 4180 CSV', () => {
  it('leaves plain fields alone and writes numbers, booleans and empties', () => {
    expect(csvField('A3')).toBe('A3');
    expect(csvField(42)).toBe('42');
    expect(csvField(true)).toBe('true');
    expect(csvField(null)).toBe('');
    expect(csvField(undefined)).toBe('');
    expect(csvField(Number.NaN)).toBe('');
  });

  it('quotes fields with a comma, a quote, CR or LF and doubles the quotes', () => {
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('line1\nline2')).toBe('"line1\nline2"');
    expect(csvField('cr\rhere')).toBe('"cr\rhere"');
  });

  it('disarms text a spreadsheet would run as a formula, but not numbers', () => {
    expect(csvField('=HYPERLINK("http://x")')).toBe('"\'=HYPERLINK(""http://x"")"');
    expect(csvField('+1')).toBe("'+1");
    expect(csvField('@SUM(A1)')).toBe("'@SUM(A1)");
    expect(csvField('-2')).toBe("'-2");
    expect(csvField(-2)).toBe('-2');
  });

  it('ends every record, the header included, in CRLF', () => {
    expect(
      toCsv(
        ['a', 'b'],
        [
          ['1', 'x,y'],
          [null, 'z'],
        ],
      ),
    ).toBe('a,b\r\n1,"x,y"\r\n,z\r\n');
  });

  it('writes one line per device row under the column header', () => {
    const row: DeviceReportRow = {
      runId: 'run-1',
      batchId: 'batch-1',
      ecid: '001A2B3C4D5E6F70',
      serialNumber: null,
      model: 'iPhone14,2',
      hardwareModel: 'd63ap',
      fromVersion: '17.5',
      toVersion: '18.6',
      build: '22G86',
      ipswSha256: 'ab'.repeat(32),
      ipswFile: 'iPhone.ipsw',
      hostId: 'pc1',
      portPath: '1-1.2',
      slot: 'A2',
      operator: 'ann, the "night" shift',
      behavior: 'erase',
      firmwareSelector: 'latest',
      startedAt: '2025-06-01T01:00:00.000Z',
      finishedAt: '2025-06-01T01:10:00.000Z',
      durationSeconds: 600,
      attempts: [
        {
          number: 1,
          outcome: 'failed',
          failureClass: 'transient-usb',
          message: 'detached',
          lastStage: 'send-filesystem',
          startedAt: '2025-06-01T01:00:00.000Z',
          endedAt: '2025-06-01T01:02:00.000Z',
        },
        {
          number: 2,
          outcome: 'done',
          failureClass: null,
          message: null,
          lastStage: null,
          startedAt: '2025-06-01T01:03:00.000Z',
          endedAt: '2025-06-01T01:10:00.000Z',
        },
      ],
      outcome: 'done',
      failureClass: null,
      failureMessage: null,
    };
    const lines = deviceRowsCsv([row]).split('\r\n');
    expect(lines[0]).toBe(DEVICE_CSV_COLUMNS.join(','));
    expect(lines[1]).toBe(
      `run-1,batch-1,001A2B3C4D5E6F70,,"iPhone14,2",d63ap,17.5,18.6,22G86,${'ab'.repeat(32)},pc1,1-1.2,A2,"ann, the ""night"" shift",` +
        `2025-06-01T01:00:00.000Z,2025-06-01T01:10:00.000Z,600,2,#1 transient-usb; #2 done,done,,`,
    );
    expect(lines[2]).toBe('');
    expect(lines).toHaveLength(3);
  });
});
