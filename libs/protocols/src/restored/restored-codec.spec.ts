import fc from 'fast-check';
import { ProtocolError } from '../errors';
import { decodePlistDict, encodePlistXml, type PlistDict, type PlistValue } from '../plist/plist';
import {
  decodeRestoredMessage,
  fileDataMessages,
  restoredDeviceMessages,
  restoredReplies,
  type RestoredMessage,
} from './restored-messages';
import {
  buildRestoreOptions,
  decodeHardwareInfo,
  decodeQueryValueReply,
  decodeRestoredQueryType,
  decodeSavedDebugInfo,
  restoredRequests,
} from './restored-requests';
import {
  DEVICE_HARDWARE_STATUS_CODES,
  normalizeProgressOperation,
  progressOperationName,
  restoreStatusMeaning,
} from './restore-tables';

// plistlib (FMT_BINARY): {MsgType: DataRequestMsg, DataType: SystemImageData, DataPort: 12345}.
const PYTHON_BPLIST_SYSTEM_IMAGE_REQUEST = Buffer.from(
  '62706c6973743030d30102030405065844617461506f7274584461746154797065574d7367547970651130395f100f537973' +
    '74656d496d616765446174615e44617461526571756573744d7367080f1821292c3e00000000000001010000000000000007' +
    '0000000000000000000000000000004d',
  'hex',
);
// plistlib (FMT_BINARY): {MsgType: ProgressMsg, Operation: 14, Progress: 100}.
const PYTHON_BPLIST_PROGRESS = Buffer.from(
  '62706c6973743030d3010203040506574d736754797065594f7065726174696f6e5850726f67726573735b50726f6772657373' +
    '4d7367100e1064080f17212a3638000000000000010100000000000000070000000000000000000000000000003a',
  'hex',
);
const xml = (body: string) =>
  Buffer.from(`<?xml version="1.0" encoding="UTF-8"?><plist version="1.0">${body}</plist>`);

describe('restored codec', () => {
  it('builds the host requests', () => {
    expect(restoredRequests.queryType('idevicerestore')).toEqual({
      Label: 'idevicerestore',
      Request: 'QueryType',
    });
    expect(restoredRequests.queryValue('HardwareInfo')).toEqual({
      Label: 'bench',
      Request: 'QueryValue',
      QueryKey: 'HardwareInfo',
    });
    expect(restoredRequests.goodbye()).toEqual({ Label: 'bench', Request: 'Goodbye' });
    expect(restoredRequests.reboot()).toEqual({ Label: 'bench', Request: 'Reboot' });
    expect(restoredRequests.startRestore(14, { AutoBootDelay: 0 })).toEqual({
      Label: 'bench',
      Request: 'StartRestore',
      RestoreProtocolVersion: 14,
      RestoreOptions: { AutoBootDelay: 0 },
    });
  });

  it('builds RestoreOptions the way idevicerestore 1.0.0 does', () => {
    const options = buildRestoreOptions({
      uuid: 'a1b2c3d4-0000-4000-8000-000000000001',
      tz0RequiredCapacity: 4096,
    });
    expect(options).toEqual({
      AutoBootDelay: 0,
      BootImageType: 'UserOrInternal',
      CreateFilesystemPartitions: true,
      DFUFileType: 'RELEASE',
      DataImage: false,
      FirmwareDirectory: '.',
      FlashNOR: true,
      KernelCacheType: 'Release',
      NORImageType: 'production',
      PersonalizedDuringPreflight: true,
      RestoreBundlePath: '/tmp/Per2.tmp',
      RootToInstall: false,
      SystemImage: true,
      SystemImageType: 'User',
      SystemPartitionPadding: { '8': 80, '16': 160, '32': 320, '64': 640, '128': 1280 },
      UUID: 'A1B2C3D4-0000-4000-8000-000000000001',
      UpdateBaseband: false,
      TZ0RequiredCapacity: 4096,
    });
    expect(buildRestoreOptions().UUID).toMatch(
      /^[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}$/,
    );
    expect(buildRestoreOptions({ extra: { FlashNOR: false } }).FlashNOR).toBe(false);
  });

  it('decodes the QueryType and QueryValue answers idevicerestore relies on', () => {
    const reply = decodePlistDict(
      xml(
        '<dict><key>HardwareModel</key><string>D22AP</string><key>RestoreProtocolVersion</key><integer>14</integer>' +
          '<key>SerialNumber</key><string>FAKESERIAL01</string><key>Type</key><string>com.apple.mobile.restored</string></dict>',
      ),
    );
    expect(decodeRestoredQueryType(reply)).toEqual({
      type: 'com.apple.mobile.restored',
      restoreProtocolVersion: 14,
      serialNumber: 'FAKESERIAL01',
      hardwareModel: 'D22AP',
      raw: reply,
    });
    // a string version makes idevicerestore ignore the device: refuse it the same way
    expect(() =>
      decodeRestoredQueryType({ Type: 'com.apple.mobile.restored', RestoreProtocolVersion: '14' }),
    ).toThrow(ProtocolError);
    const info = decodeHardwareInfo(
      decodeQueryValueReply(
        {
          HardwareInfo: {
            UniqueChipID: 0x1234,
            BoardID: 6,
            ChipID: 0x8015,
            ProductionMode: true,
            SupportsImage4: true,
          },
        },
        'HardwareInfo',
      ),
    );
    expect(info).toEqual(
      expect.objectContaining({
        uniqueChipId: 0x1234n,
        boardId: 6,
        chipId: 0x8015,
        productionMode: true,
        supportsImage4: true,
      }),
    );
    expect(() => decodeHardwareInfo({ BoardID: 6 })).toThrow(/UniqueChipID/);
    expect(decodeSavedDebugInfo({ PreviousExitStatus: 'none' })).toEqual({
      previousExitStatus: 'none',
      usbLog: undefined,
      panicLog: undefined,
    });
  });

  it('decodes binary device messages written by another implementation', () => {
    expect(decodeRestoredMessage(decodePlistDict(PYTHON_BPLIST_SYSTEM_IMAGE_REQUEST))).toEqual(
      expect.objectContaining({ msgType: 'DataRequestMsg', dataType: 'SystemImageData', dataPort: 12345 }),
    );
    expect(decodeRestoredMessage(decodePlistDict(PYTHON_BPLIST_PROGRESS))).toEqual(
      expect.objectContaining({ msgType: 'ProgressMsg', operation: 14, progress: 100 }),
    );
  });

  it('decodes every known MsgType into its variant', () => {
    const cases: Array<[PlistDict, Partial<RestoredMessage>]> = [
      [
        { MsgType: 'AsyncDataRequestMsg', DataType: 'URLAsset', Arguments: { RequestMethod: 'GET' } },
        { msgType: 'AsyncDataRequestMsg', dataType: 'URLAsset', arguments: { RequestMethod: 'GET' } },
      ],
      [
        {
          MsgType: 'CheckpointMsg',
          CHECKPOINT_ID: 1,
          CHECKPOINT_NAME: 'x',
          CHECKPOINT_RESULT: 0,
          CHECKPOINT_COMPLETE: true,
        },
        { msgType: 'CheckpointMsg', checkpointId: 1, name: 'x', result: 0, complete: true },
      ],
      [
        { MsgType: 'PreviousRestoreLogMsg', PreviousRestoreLog: 'log' },
        { msgType: 'PreviousRestoreLogMsg', log: 'log' },
      ],
      [
        {
          MsgType: 'BBUpdateStatusMsg',
          Accepted: false,
          Output: { done: true, provisioning: { IMEI: '35' } },
        },
        { msgType: 'BBUpdateStatusMsg', accepted: false, done: true, imei: '35' },
      ],
      [
        { MsgType: 'BasebandUpdaterOutputData', DataPort: 9000 },
        { msgType: 'BasebandUpdaterOutputData', dataPort: 9000 },
      ],
      [
        { MsgType: 'RestoredCrash', RestoredBacktrace: 'bt' },
        { msgType: 'RestoredCrash', backtrace: 'bt' },
      ],
      [{ MsgType: 'AsyncWait' }, { msgType: 'AsyncWait' }],
      [{ MsgType: 'RestoreAttestation' }, { msgType: 'RestoreAttestation' }],
      [{ MsgType: 'FancyNewMsg' }, { msgType: 'unknown', name: 'FancyNewMsg' }],
      [{ Result: 'Success' }, { msgType: 'unknown', name: undefined }],
    ];
    for (const [dict, expected] of cases)
      expect(decodeRestoredMessage(dict)).toEqual(expect.objectContaining(expected));
  });

  it('requires integer Operation and Progress, a DataType, and sane ports', () => {
    expect(() => decodeRestoredMessage({ MsgType: 'ProgressMsg', Operation: 14 })).toThrow(/Progress/);
    expect(() => decodeRestoredMessage({ MsgType: 'ProgressMsg', Operation: '14', Progress: 1 })).toThrow(
      ProtocolError,
    );
    expect(() => decodeRestoredMessage({ MsgType: 'DataRequestMsg' })).toThrow(/DataType/);
    expect(() => decodeRestoredMessage({ MsgType: 'DataRequestMsg', DataType: 'X', DataPort: 0 })).toThrow(
      ProtocolError,
    );
    expect(() => decodeRestoredMessage({ MsgType: 'BasebandUpdaterOutputData' })).toThrow(/DataPort/);
    // a mistyped field of a log-only message is dropped, not fatal
    expect(decodeRestoredMessage({ MsgType: 'CheckpointMsg', CHECKPOINT_NAME: 5 })).toEqual(
      expect.objectContaining({ msgType: 'CheckpointMsg', name: undefined }),
    );
  });

  it('maps StatusMsg 0xFFFFFFFFFFFFFFFF to -1 in every form it can arrive in', () => {
    const status = (value: PlistValue) => {
      const message = decodeRestoredMessage({ MsgType: 'StatusMsg', Status: value });
      if (message.msgType !== 'StatusMsg') throw new Error('not a StatusMsg');
      return message;
    };
    // XML as a real device writes it: parsed into a double that rounds to 2^64
    const fromXml = decodeRestoredMessage(
      decodePlistDict(
        xml(
          '<dict><key>MsgType</key><string>StatusMsg</string><key>Status</key><integer>18446744073709551615</integer></dict>',
        ),
      ),
    );
    expect(fromXml).toEqual(expect.objectContaining({ status: -1, statusRaw: 2n ** 64n - 1n }));
    expect(status(2n ** 64n - 1n).status).toBe(-1);
    expect(status(-1).status).toBe(-1);
    expect(status(0)).toEqual(expect.objectContaining({ status: 0, statusRaw: 0n }));
    const failed = decodeRestoredMessage({
      MsgType: 'StatusMsg',
      Status: 14,
      AMRError: 6,
      Log: 'device log',
    });
    expect(failed).toEqual(expect.objectContaining({ status: 14, amrError: 6, log: 'device log' }));
    expect(() => status('0')).toThrow(ProtocolError);
    expect(() => decodeRestoredMessage({ MsgType: 'StatusMsg' })).toThrow(/Status/);
  });

  it('names progress operations, shifting codes above 35 for protocol versions below 14', () => {
    expect(progressOperationName(11, 14)).toBe('Creating partition map');
    expect(progressOperationName(13, 13)).toBe('Restoring image');
    expect(progressOperationName(35, 13)).toBe('Loading firmware data to flash');
    expect(progressOperationName(35, 14)).toBe('Loading firmware data to flash');
    expect(progressOperationName(36, 14)).toBe('Requesting FUD data');
    expect(progressOperationName(35 + 1, 13)).toBe('Removing activation record'); // 36 → 37
    expect(normalizeProgressOperation(50, 12)).toBe(51);
    expect(normalizeProgressOperation(50, 15)).toBe(50);
    expect(progressOperationName(80, 14)).toBe('Unknown operation (80)');
  });

  it('gives StatusMsg meanings and the hardware-fault codes', () => {
    expect(restoreStatusMeaning(0)).toBe('Restore Finished');
    expect(restoreStatusMeaning(-1)).toBe('Verification Error');
    expect(restoreStatusMeaning(6)).toBe('Disk Failure');
    expect(restoreStatusMeaning(14)).toBe('Fail');
    expect(restoreStatusMeaning(27)).toBe('Failed to mount filesystems');
    expect(restoreStatusMeaning(53)).toBe('Failed to recover FDR data');
    expect(restoreStatusMeaning(1015)).toMatch(/Baseband/);
    expect(restoreStatusMeaning(68)).toBe('Unhandled status message (68)');
    expect(DEVICE_HARDWARE_STATUS_CODES).toEqual([6, 27, 50, 51, 53, 1015]);
  });

  it('builds the host replies', () => {
    const bytes = new Uint8Array([1, 2, 3]);
    expect(restoredReplies.receivedFinalStatus()).toEqual({ MsgType: 'ReceivedFinalStatusMsg' });
    expect(restoredReplies.rootTicket(bytes)).toEqual({ RootTicketData: bytes });
    expect(restoredReplies.kernelCache(bytes)).toEqual({ KernelCacheFile: bytes });
    expect(restoredReplies.deviceTree(bytes)).toEqual({ DeviceTreeFile: bytes });
    expect(restoredReplies.componentFile('SystemImageRootHash', bytes)).toEqual({
      SystemImageRootHashFile: bytes,
    });
    expect(restoredReplies.fdrTrustData()).toEqual({});
    expect(restoredReplies.restoreAttestation()).toEqual({ RestoreShouldAttest: false });
    expect(restoredReplies.norData({ llb: bytes, firmware: [bytes, bytes], sep: bytes })).toEqual({
      LlbImageData: bytes,
      NorImageData: [bytes, bytes],
      SEPImageData: bytes,
    });
    // a data reply survives XML encoding
    expect(decodePlistDict(encodePlistXml(restoredReplies.rootTicket(bytes)))).toEqual({
      RootTicketData: bytes,
    });
  });

  it('streams FileData in ≤8192-byte chunks ending with FileDataDone', () => {
    const image = new Uint8Array(20000).map((_, i) => i & 0xff);
    const messages = [...fileDataMessages(image)];
    expect(messages.map((m) => (m.FileData instanceof Uint8Array ? m.FileData.length : m))).toEqual([
      8192,
      8192,
      3616,
      { FileDataDone: true },
    ]);
    const joined = Buffer.concat(messages.slice(0, 3).map((m) => m.FileData as Uint8Array));
    expect(joined.equals(Buffer.from(image))).toBe(true);
    expect([...fileDataMessages(new Uint8Array(0))]).toEqual([{ FileDataDone: true }]);
  });

  it('device-side builders produce messages the decoder reads back', () => {
    expect(decodeRestoredMessage(restoredDeviceMessages.dataRequest('RootTicket'))).toEqual(
      expect.objectContaining({ msgType: 'DataRequestMsg', dataType: 'RootTicket', dataPort: undefined }),
    );
    expect(decodeRestoredMessage(restoredDeviceMessages.progress(13, 42))).toEqual(
      expect.objectContaining({ operation: 13, progress: 42 }),
    );
    expect(decodeRestoredMessage(restoredDeviceMessages.status(6, { log: 'x' }))).toEqual(
      expect.objectContaining({ status: 6, log: 'x' }),
    );
  });

  it('fails only with ProtocolError on arbitrary dictionaries', () => {
    const value = fc.oneof(
      fc.string({ maxLength: 10 }),
      fc.integer(),
      fc.bigInt({ min: -(2n ** 64n), max: 2n ** 64n }),
      fc.double(),
      fc.boolean(),
      fc.uint8Array({ maxLength: 4 }),
      fc.constant<PlistValue>({}),
      fc.constant<PlistValue>([]),
    );
    const msgType = fc.constantFrom(
      'DataRequestMsg',
      'AsyncDataRequestMsg',
      'ProgressMsg',
      'StatusMsg',
      'CheckpointMsg',
      'PreviousRestoreLogMsg',
      'BBUpdateStatusMsg',
      'BasebandUpdaterOutputData',
      'RestoredCrash',
      'AsyncWait',
      'RestoreAttestation',
      'Other',
    );
    const keys = fc.constantFrom(
      'DataType',
      'DataPort',
      'Arguments',
      'Operation',
      'Progress',
      'Status',
      'AMRError',
      'Log',
      'CHECKPOINT_ID',
      'Accepted',
      'Output',
      'RestoredBacktrace',
      'PreviousRestoreLog',
    );
    fc.assert(
      fc.property(msgType, fc.dictionary(keys, value, { maxKeys: 6 }), (type, fields) => {
        try {
          const message = decodeRestoredMessage({ ...fields, MsgType: type });
          expect(message.raw).toEqual({ ...fields, MsgType: type });
        } catch (error) {
          expect(error).toBeInstanceOf(ProtocolError);
        }
      }),
      { numRuns: 500 },
    );
  });
});
