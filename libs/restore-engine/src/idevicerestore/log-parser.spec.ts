// The parser on synthetic input: the line shapes the real fixtures do not cover (CRLF, `\r`
// redraws, truncation, the masking bug) and one line per rule in idevicerestore's own wording
// (1.0.0 and current upstream sources). The success run is the line sequence of a successful
// Debian 1.0.0 restore as recorded in reference/idevicerestore-1.0.0-restore-mode.md §6.
import type { FailureClass, Stage } from '@bench/bench-domain';
import type { RestoreEvent } from '../restore-events';
import { FAILURE_RULES } from './failure-rules';
import { IdevicerestoreLogParser, type IdevicerestoreVerdict } from './log-parser';

const DEBIAN_SUCCESS = [
  'Using ApTicket found at /tmp/ticket.der length 20',
  'Found device in Restore mode',
  'INFO: device serial number is FAKESERIAL01',
  'Identified device as d22ap, iPhone10,3',
  'Extracting BuildManifest from IPSW',
  'Product Version: 14.0',
  'Product Build: 18A373 Major: 18',
  'Device supports Image4: true',
  'Variant: Customer Erase Install (IPSW)',
  'This restore will erase your device data.',
  'Checking IPSW for required components...',
  'All required components found in IPSW',
  'Extracting filesystem from IPSW: 018-00000-000.dmg',
  '\r[=========================                         ]  50.0%\r[==================================================] 100.0%',
  'About to restore device... ',
  'Connecting now...',
  'Connected to com.apple.mobile.restored, version 14',
  'Device 00008015-0000000000001234 has successfully entered restore mode',
  'Hardware Information:',
  'BoardID: 6',
  'ChipID: 32789',
  'UniqueChipID: 4660',
  'ProductionMode: true',
  'Previous restore exit status: none',
  'Starting FDR listener thread',
  'Creating partition map (11)',
  'About to send RootTicket...',
  'Sending RootTicket now...',
  'Done sending RootTicket',
  'About to send filesystem...',
  'Connected to ASR',
  'Validating the filesystem',
  'Filesystem validated',
  'Sending filesystem now...',
  '\r[==========                                        ]  20.0%\r[==================================================] 100.0%',
  'Done sending filesystem',
  'Verifying restore (14)',
  '[==================================================] 100.0%',
  'Unmounting filesystems (29)',
  'Got status message',
  'Status: Restore Finished',
  'Cleaning up...',
  'DONE',
];

function parse(lines: readonly string[], options?: { ecid?: string }) {
  const parser = new IdevicerestoreLogParser(options);
  const events = lines.flatMap((line) => parser.push(line));
  return { parser, events, verdict: parser.result() };
}

function failureOf(verdict: IdevicerestoreVerdict) {
  if (verdict.ok) throw new Error(`expected a failure, got success at line ${verdict.lineNumber}`);
  return verdict;
}

const stagesOf = (events: RestoreEvent[]) => events.flatMap((e) => (e.type === 'stage' ? [e.stage] : []));
const progressOf = (events: RestoreEvent[]) =>
  events.flatMap((e) => (e.type === 'progress' ? [[e.stage, e.percent] as const] : []));

describe('IdevicerestoreLogParser', () => {
  describe('success', () => {
    it('is a success with "Status: Restore Finished" then DONE, and follows the stages', () => {
      const { verdict, events } = parse(DEBIAN_SUCCESS, { ecid: '0x1234' });
      expect(verdict).toEqual({
        ok: true,
        stage: 'finalize',
        lineNumber: 41,
        message: 'Status: Restore Finished',
      });
      expect(stagesOf(events)).toEqual(['restored-connect', 'send-filesystem', 'verify', 'finalize']);
      expect(events).toContainEqual(
        expect.objectContaining({ type: 'device', mode: 'restore', ecid: '0000000000001234' }),
      );
      expect(progressOf(events)).toEqual(
        expect.arrayContaining([
          ['prepare', 50],
          ['prepare', 100],
          ['send-filesystem', 20],
          ['send-filesystem', 100],
          ['verify', 100],
        ]),
      );
    });

    it('reads the same from CRLF output', () => {
      const lf = parse(DEBIAN_SUCCESS);
      const crlf = parse(DEBIAN_SUCCESS.map((line) => `${line}\r`));
      expect(crlf.verdict).toEqual(lf.verdict);
      expect(crlf.events).toEqual(lf.events);
    });

    it('is not a success when "Status: Restore Finished" comes without DONE (truncated or hung)', () => {
      const failure = failureOf(parse(DEBIAN_SUCCESS.slice(0, -2)).verdict);
      expect(failure).toMatchObject({ stage: 'finalize', failureClass: 'unknown', rule: 'no-verdict' });
    });

    it('stays a success after secondary FDR errors', () => {
      const lines = [...DEBIAN_SUCCESS];
      lines.splice(
        25,
        0,
        'ERROR: Unable to connect to FDR client (-2)',
        'ERROR: Failed to start FDR Ctrl channel',
      );
      expect(parse(lines).verdict.ok).toBe(true);
    });

    it('ignores the final `progress: <last step> 1.0` that -P prints after DONE', () => {
      const { events } = parse([...DEBIAN_SUCCESS, 'progress: 6 1.000000']);
      expect(progressOf(events).at(-1)).toEqual(['verify', 100]);
    });
  });

  describe('the masking bug (exit 0 with DONE after a failed handler)', () => {
    it('keeps the ASR failure although the tool went on to print DONE', () => {
      const failure = failureOf(
        parse([
          'About to send filesystem...',
          'Connected to ASR',
          'Validating the filesystem',
          'ERROR: Unable to receive data from ASR',
          'ERROR: ASR was unable to validate the filesystem',
          'Verifying restore (14)',
          'Cleaning up...',
          'DONE',
        ]).verdict,
      );
      expect(failure).toMatchObject({
        stage: 'send-filesystem',
        failureClass: 'transient-usb',
        lineNumber: 4,
      });
    });

    it('is not a success with DONE but no "Status: Restore Finished"', () => {
      const failure = failureOf(parse(['Verifying restore (14)', 'Cleaning up...', 'DONE']).verdict);
      expect(failure).toMatchObject({ stage: 'verify', failureClass: 'unknown', rule: 'no-verdict' });
      expect(failure.message).toMatch(/DONE without "Status: Restore Finished"/);
    });

    it('does not let "Status: Restore Finished" hide an earlier transfer failure', () => {
      const lines = [...DEBIAN_SUCCESS];
      lines.splice(35, 0, 'ERROR: Unable to send data to ASR. Sent 0 of 131092 bytes.');
      expect(failureOf(parse(lines).verdict)).toMatchObject({
        failureClass: 'transient-usb',
        stage: 'send-filesystem',
      });
    });
  });

  describe('line shapes', () => {
    it('splits `\\r` progress redraws and reports whole-percent changes once', () => {
      const bars = Array.from(
        { length: 41 },
        (_, i) => `\r[${'='.repeat(i)}${' '.repeat(50 - i)}] ${(i * 2.5).toFixed(1).padStart(5)}%`,
      );
      const { events } = parse(['Sending filesystem now...', bars.join('')]);
      const percents = progressOf(events).map(([, percent]) => percent);
      expect(percents).toEqual([...new Set(percents)]);
      expect(percents.at(-1)).toBe(100);
      expect(percents).toContain(50);
    });

    it('separates an error glued to a progress bar', () => {
      const { verdict, events } = parse([
        'Sending iBSS (416413 bytes)...',
        '[===============================                   ]  63.7%[Error] ERROR: Unable to send iBSS component: Unable to upload data to device',
      ]);
      expect(failureOf(verdict)).toMatchObject({
        stage: 'send-ibss',
        failureClass: 'transient-usb',
        lineNumber: 2,
      });
      expect(events).toContainEqual(
        expect.objectContaining({ type: 'progress', stage: 'send-ibss', percent: 63.7, bytesTotal: 416413 }),
      );
    });

    it('reports the last stage reached when the output is cut off', () => {
      const failure = failureOf(
        parse([
          'Found device in Recovery mode',
          'Sending iBEC (458120 bytes)...',
          'Recovery Mode Environment:',
          'Sending RestoreLogo...',
        ]).verdict,
      );
      expect(failure).toMatchObject({ stage: 'boot-ramdisk', failureClass: 'unknown', rule: 'no-verdict' });
      expect(failure.message).toBe('output ends during boot-ramdisk without a result');
    });

    it('strips colour codes and logger labels', () => {
      const failure = failureOf(
        parse([
          '\u001b[31m12:00:01.123   <Error> Unable to discover device mode. Please make sure a device is attached.\u001b[0m',
        ]).verdict,
      );
      expect(failure).toMatchObject({ failureClass: 'host-setup', stage: 'prepare', rule: 'discover-mode' });
      expect(failure.message).toBe(
        '12:00:01.123   <Error> Unable to discover device mode. Please make sure a device is attached.',
      );
    });

    it('classifies an error line no rule knows as unknown', () => {
      const failure = failureOf(
        parse(['Found device in DFU mode', 'ERROR: Something new went wrong']).verdict,
      );
      expect(failure).toMatchObject({ failureClass: 'unknown', rule: 'unrecognised-error', lineNumber: 2 });
    });

    it('names operations by name, so pre-14 protocol codes shifted by one still count', () => {
      const { events } = parse(['Updating gas gauge software (46)', 'Updating baseband (19)']);
      expect(events).toContainEqual(
        expect.objectContaining({
          type: 'progress',
          deviceOperation: { code: 46, name: 'Updating gas gauge software' },
        }),
      );
      expect(stagesOf(events)).toEqual(['baseband']);
    });

    it('bounds the device log kept as evidence to its last lines', () => {
      const log = Array.from({ length: 1000 }, (_, i) => `restore-step-uptime = ${i}`);
      const failure = failureOf(
        parse(['Got status message', 'Status: Disk Failure', 'Log is available:', ...log]).verdict,
      );
      const kept = failure.evidence.deviceLog?.split('\n') ?? [];
      expect(kept.length).toBe(200);
      expect(kept.at(-1)).toBe('restore-step-uptime = 999');
    });

    it('survives a line with no newline for megabytes', () => {
      const { verdict } = parse([
        'x'.repeat(4 * 1024 * 1024),
        'ERROR: Could not read data (-256). Aborting.',
      ]);
      expect(failureOf(verdict).failureClass).toBe('transient-usb');
    });
  });

  describe('runs and evidence', () => {
    it('starts a new run at a version banner, dropping the previous run’s failure', () => {
      const { verdict } = parse([
        'ERROR: Unable to discover device mode. Please make sure a device is attached.',
        'idevicerestore 1.0.0',
        ...DEBIAN_SUCCESS,
      ]);
      expect(verdict.ok).toBe(true);
    });

    it('reads "Unable to discover device mode" as USB trouble once the run had found the device', () => {
      const failure = failureOf(
        parse([
          'Found device in Restore mode',
          'Rebooting restore mode device...',
          'ERROR: Unable to discover device mode. Please make sure a device is attached.',
        ]).verdict,
      );
      expect(failure).toMatchObject({ failureClass: 'transient-usb', stage: 'prepare' });
    });

    it('treats unnamed status codes from design §6 as hardware', () => {
      const failure = failureOf(parse(['Got status message', 'Unhandled status message (1015)']).verdict);
      expect(failure).toMatchObject({ failureClass: 'device-hardware', stage: 'restored-connect' });
      expect(failure.evidence).toMatchObject({
        statusCode: 1015,
        lastDeviceMessage: 'Unhandled status message (1015)',
      });
    });
  });

  // One line per rule, in idevicerestore's own wording (1.0.0 with "ERROR: ", upstream without).
  const RULE_EXAMPLES: ReadonlyArray<[string, string, Stage, FailureClass]> = [
    [
      'tss-refused',
      "ERROR: TSS request failed (status=94, message=This device isn't eligible for the requested build.)",
      'prepare',
      'signing-refused',
    ],
    ['tss-server-returned', 'TSS server returned: STATUS=128&MESSAGE=Internal error', 'prepare', 'unknown'],
    ['baseband-refused', "device didn't accept BasebandData", 'baseband', 'device-hardware'],
    ['status-verification-error', 'Status: Verification Error', 'restored-connect', 'unknown'],
    ['status-disk-failure', 'Status: Disk Failure', 'restored-connect', 'device-hardware'],
    ['status-fail', 'Status: Fail', 'restored-connect', 'unknown'],
    ['status-mount-failed', 'Status: Failed to mount filesystems.', 'restored-connect', 'device-hardware'],
    ['status-sep-failed', 'Status: Failed to load SEP Firmware.', 'restored-connect', 'device-hardware'],
    ['status-fdr-failed', 'Status: Failed to recover FDR data.', 'finalize', 'device-hardware'],
    [
      'status-xgold-baseband',
      'Status: X-Gold Baseband Update Failed. Defective Unit?',
      'baseband',
      'device-hardware',
    ],
    ['status-unhandled', 'Unhandled status message (68)', 'restored-connect', 'unknown'],
    [
      'reconnected-in-boot-mode',
      'Device reconnected in DFU mode, most likely image personalization failed.',
      'boot-ramdisk',
      'stuck',
    ],
    ['usbmuxd-hint', 'Make sure that usbmuxd is running.', 'boot-ramdisk', 'host-setup'],
    [
      'discover-mode',
      'ERROR: Unable to discover device mode. Please make sure a device is attached.',
      'prepare',
      'host-setup',
    ],
    [
      'libusb-access',
      "_irecv_handle_device_add: ERROR: can't connect to device: LIBUSB_ERROR_ACCESS",
      'prepare',
      'host-setup',
    ],
    ['discover-type', 'ERROR: Unable to discover device type', 'prepare', 'host-setup'],
    [
      'enter-recovery-failed',
      'ERROR: Unable to connect to device in recovery mode',
      'enter-recovery',
      'transient-usb',
    ],
    [
      'component-upload-failed',
      'Unable to send RestoreRamDisk component: Unable to upload data to device',
      'boot-ramdisk',
      'transient-usb',
    ],
    [
      'did-not-disconnect',
      'ERROR: Device did not disconnect. Possibly invalid iBEC. Reset device and try again.',
      'send-ibec',
      'stuck',
    ],
    [
      'did-not-reconnect',
      'ERROR: Device did not reconnect in recovery mode. Possibly invalid iBEC. Reset device and try again.',
      'send-ibec',
      'transient-usb',
    ],
    [
      'failed-to-place-in-restore-mode',
      'ERROR: Failed to place device in restore mode',
      'boot-ramdisk',
      'stuck',
    ],
    ['failed-to-enter-restore-mode', 'Device failed to enter restore mode.', 'boot-ramdisk', 'stuck'],
    ['tss-unreachable', 'ERROR: Unable to send TSS request', 'prepare', 'host-setup'],
    ['baseband-tss-unreachable', 'ERROR: Unable to fetch Baseband TSS', 'baseband', 'host-setup'],
    ['nonce-missing', 'ERROR: Unable to find required ApNonce in parameters', 'prepare', 'unknown'],
    ['no-build-identity', 'ERROR: Unable to find a matching build identity', 'prepare', 'firmware-invalid'],
    [
      'firmware-unusable',
      'ERROR: Unable to extract BuildManifest from x.ipsw. Firmware file might be corrupt.',
      'prepare',
      'firmware-invalid',
    ],
    ['host-disk-or-download', 'ERROR: Unable to open output file: /var/cache/x.dmg', 'prepare', 'host-setup'],
    [
      'restored-unreachable',
      'ERROR: Unable to connect to device in restore mode',
      'restored-connect',
      'transient-usb',
    ],
    [
      'asr-transfer-failed',
      'ERROR: Unable to send data to ASR. Sent 0 of 131072 bytes.',
      'send-filesystem',
      'transient-usb',
    ],
    [
      'restored-connection-lost',
      'Could not read data (-256). Aborting.',
      'restored-connect',
      'transient-usb',
    ],
    ['nor-flash-skipped', 'Not sending NORData... Quitting...', 'flash-firmware', 'unknown'],
    ['consequence', 'ERROR: Unable to restore device', 'prepare', 'unknown'],
  ];

  it('has an example for every rule', () => {
    expect(RULE_EXAMPLES.map(([id]) => id).sort()).toEqual(FAILURE_RULES.map((rule) => rule.id).sort());
  });

  it.each(RULE_EXAMPLES)('%s: %s', (id, line, stage, failureClass) => {
    expect(failureOf(parse([line]).verdict)).toMatchObject({ rule: id, stage, failureClass });
  });
});
