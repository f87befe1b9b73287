// Messages restored sends once StartRestore is accepted (one `MsgType` per message), decoded into
// a discriminated union, and the host's replies to them (restore-protocol.md §3.6, §3.8).
import { ProtocolError } from '../errors';
import {
  optionalBoolean,
  optionalDict,
  optionalInteger,
  optionalString,
  requireInteger,
  requireString,
} from '../plist/fields';
import type { PlistDict, PlistValue } from '../plist/plist';

export interface DataRequest {
  dataType: string;
  /** When present, the reply goes over a new connection to this device port (ASR for SystemImageData). */
  dataPort?: number;
  arguments?: PlistDict;
  raw: PlistDict;
}

export type RestoredMessage =
  | ({ msgType: 'DataRequestMsg' } & DataRequest)
  | ({ msgType: 'AsyncDataRequestMsg' } & DataRequest)
  | { msgType: 'ProgressMsg'; operation: number; progress: number; raw: PlistDict }
  | {
      msgType: 'StatusMsg';
      /** 0 = success; 0xFFFFFFFFFFFFFFFF is mapped to -1 (verification error). */
      status: number;
      /** The wire value as sent (bigint keeps 64-bit values whole where the plist did). */
      statusRaw: bigint;
      amrError?: number;
      log?: string;
      raw: PlistDict;
    }
  | {
      msgType: 'CheckpointMsg';
      checkpointId?: number;
      name?: string;
      result?: number;
      complete?: boolean;
      warning?: string;
      error?: string;
      raw: PlistDict;
    }
  | { msgType: 'PreviousRestoreLogMsg'; log?: string; raw: PlistDict }
  | { msgType: 'BBUpdateStatusMsg'; accepted?: boolean; done?: boolean; imei?: string; raw: PlistDict }
  | { msgType: 'BasebandUpdaterOutputData'; dataPort: number; raw: PlistDict }
  | { msgType: 'RestoredCrash'; backtrace?: string; raw: PlistDict }
  | { msgType: 'AsyncWait'; raw: PlistDict }
  | { msgType: 'RestoreAttestation'; raw: PlistDict }
  /** Any other (or missing) MsgType: `name` is what the device sent. */
  | { msgType: 'unknown'; name?: string; raw: PlistDict };

export type RestoredMsgType = RestoredMessage['msgType'];
export type RestoredMessageOf<T extends RestoredMsgType> = Extract<RestoredMessage, { msgType: T }>;

export function decodeRestoredMessage(dict: PlistDict): RestoredMessage {
  const name = optionalString(dict, 'MsgType');
  switch (name) {
    case 'DataRequestMsg':
    case 'AsyncDataRequestMsg':
      return { msgType: name, ...decodeDataRequest(dict) };
    case 'ProgressMsg':
      return {
        msgType: name,
        operation: requireInteger(dict, 'Operation', 'ProgressMsg'),
        progress: requireInteger(dict, 'Progress', 'ProgressMsg'),
        raw: dict,
      };
    case 'StatusMsg':
      return decodeStatusMsg(dict);
    case 'CheckpointMsg':
      return {
        msgType: name,
        checkpointId: lenient(() => optionalInteger(dict, 'CHECKPOINT_ID')),
        name: lenient(() => optionalString(dict, 'CHECKPOINT_NAME')),
        result: lenient(() => optionalInteger(dict, 'CHECKPOINT_RESULT')),
        complete: lenient(() => optionalBoolean(dict, 'CHECKPOINT_COMPLETE')),
        warning: lenient(() => optionalString(dict, 'CHECKPOINT_WARNING')),
        error: lenient(() => optionalString(dict, 'CHECKPOINT_ERROR')),
        raw: dict,
      };
    case 'PreviousRestoreLogMsg':
      return { msgType: name, log: lenient(() => optionalString(dict, 'PreviousRestoreLog')), raw: dict };
    case 'BBUpdateStatusMsg':
      return decodeBasebandStatus(dict);
    case 'BasebandUpdaterOutputData':
      return { msgType: name, dataPort: requirePort(dict, 'BasebandUpdaterOutputData'), raw: dict };
    case 'RestoredCrash':
      return {
        msgType: name,
        backtrace: lenient(() => optionalString(dict, 'RestoredBacktrace')),
        raw: dict,
      };
    case 'AsyncWait':
    case 'RestoreAttestation':
      return { msgType: name, raw: dict };
    default:
      return { msgType: 'unknown', name, raw: dict };
  }
}

function decodeDataRequest(dict: PlistDict): DataRequest {
  const dataPort = optionalInteger(dict, 'DataPort');
  if (dataPort !== undefined) checkPort(dataPort);
  return {
    dataType: requireString(dict, 'DataType', 'DataRequestMsg'),
    dataPort,
    arguments: optionalDict(dict, 'Arguments'),
    raw: dict,
  };
}

const UINT64_MAX = 2n ** 64n - 1n;

function decodeStatusMsg(dict: PlistDict): RestoredMessageOf<'StatusMsg'> {
  const value = dict.Status;
  if (value === undefined) throw new ProtocolError('StatusMsg lacks the required key Status', 'Status');
  const { status, statusRaw } = statusNumber(value);
  const amr = dict.AMRError;
  return {
    msgType: 'StatusMsg',
    status,
    statusRaw,
    amrError: amr === undefined ? undefined : statusNumber(amr, 'AMRError').status,
    log: lenient(() => optionalString(dict, 'Log')),
    raw: dict,
  };
}

/**
 * Status is a uint64 on the device. 0xFFFFFFFFFFFFFFFF means "verification error"; it reaches us
 * as -1 (binary plists read as signed), as 2^64-1 (bigint), or as 2^64 (an XML integer parsed
 * into a double, which rounds it up).
 */
function statusNumber(value: PlistValue, key = 'Status'): { status: number; statusRaw: bigint } {
  if (typeof value === 'bigint') {
    if (value === UINT64_MAX || value === -1n) return { status: -1, statusRaw: value };
    return { status: Number(value), statusRaw: value };
  }
  if (typeof value !== 'number' || !Number.isInteger(value)) {
    throw new ProtocolError(`StatusMsg '${key}' should be an integer`, key);
  }
  if (value === -1 || value === 2 ** 64) return { status: -1, statusRaw: value === -1 ? -1n : UINT64_MAX };
  return { status: value, statusRaw: BigInt(value) };
}

function decodeBasebandStatus(dict: PlistDict): RestoredMessageOf<'BBUpdateStatusMsg'> {
  const output = lenient(() => optionalDict(dict, 'Output'));
  const provisioning = output ? lenient(() => optionalDict(output, 'provisioning')) : undefined;
  return {
    msgType: 'BBUpdateStatusMsg',
    accepted: optionalBoolean(dict, 'Accepted'),
    done: output ? lenient(() => optionalBoolean(output, 'done')) : undefined,
    imei: provisioning ? lenient(() => optionalString(provisioning, 'IMEI')) : undefined,
    raw: dict,
  };
}

function requirePort(dict: PlistDict, what: string): number {
  return checkPort(requireInteger(dict, 'DataPort', what));
}

function checkPort(port: number): number {
  if (port < 1 || port > 0xffff) throw new ProtocolError(`DataPort ${port} is not a TCP port`, 'DataPort');
  return port;
}

/** Fields of log-only messages: a mistyped one is dropped (it stays in `raw`), never fatal. */
function lenient<T>(read: () => T): T | undefined {
  try {
    return read();
  } catch (error) {
    if (error instanceof ProtocolError) return undefined;
    throw error;
  }
}

/** FileData streaming chunk size used by idevicerestore for PersonalizedBootObjectV3 / SourceBootObjectV4. */
export const FILE_DATA_CHUNK_SIZE = 8192;

export interface NorDataImages {
  llb: Uint8Array;
  /** Array form: iBoot first. Dict form (Arguments.FlashVersion1): name → image. */
  firmware: Uint8Array[] | Record<string, Uint8Array>;
  restoreSep?: Uint8Array;
  sep?: Uint8Array;
  sepPatch?: Uint8Array;
}

/** What the host sends back to restored (bare dicts without MsgType, except the final ack). */
export const restoredReplies = {
  receivedFinalStatus: (): PlistDict => ({ MsgType: 'ReceivedFinalStatusMsg' }),
  rootTicket: (ticket: Uint8Array): PlistDict => ({ RootTicketData: ticket }),
  kernelCache: (image: Uint8Array): PlistDict => ({ KernelCacheFile: image }),
  deviceTree: (image: Uint8Array): PlistDict => ({ DeviceTreeFile: image }),
  /** `<component>File`, e.g. SystemImageRootHash → SystemImageRootHashFile. */
  componentFile: (component: string, image: Uint8Array): PlistDict => ({ [`${component}File`]: image }),
  norData: (images: NorDataImages): PlistDict => {
    const reply: PlistDict = {
      LlbImageData: images.llb,
      NorImageData: Array.isArray(images.firmware) ? images.firmware : { ...images.firmware },
    };
    if (images.restoreSep) reply.RestoreSEPImageData = images.restoreSep;
    if (images.sep) reply.SEPImageData = images.sep;
    if (images.sepPatch) reply.SEPPatchImageData = images.sepPatch;
    return reply;
  },
  /** iTunes and idevicerestore both answer FDRTrustData with an empty dict. */
  fdrTrustData: (): PlistDict => ({}),
  fudImageList: (names: string[]): PlistDict => ({ FUDImageList: names }),
  fudImageData: (images: Record<string, Uint8Array>): PlistDict => ({ FUDImageData: { ...images } }),
  fudImage: (name: string, image: Uint8Array): PlistDict => ({ FUDImageData: image, ImageName: name }),
  fileData: (chunk: Uint8Array): PlistDict => ({ FileData: chunk }),
  fileDataDone: (): PlistDict => ({ FileDataDone: true }),
  restoreAttestation: (): PlistDict => ({ RestoreShouldAttest: false }),
  buildIdentity: (identity: PlistDict, variant = 'Erase'): PlistDict => ({
    BuildIdentityDict: identity,
    Variant: variant,
  }),
};

/** The FileData stream for one image: ≤8192-byte `{FileData}` messages, then `{FileDataDone: true}`. */
export function* fileDataMessages(image: Uint8Array, chunkSize = FILE_DATA_CHUNK_SIZE): Generator<PlistDict> {
  if (!Number.isInteger(chunkSize) || chunkSize < 1) throw new RangeError(`bad chunk size ${chunkSize}`);
  for (let offset = 0; offset < image.length; offset += chunkSize) {
    yield restoredReplies.fileData(image.subarray(offset, Math.min(offset + chunkSize, image.length)));
  }
  yield restoredReplies.fileDataDone();
}

/** Device-side helper (simulator): the device messages as dicts. */
export const restoredDeviceMessages = {
  dataRequest: (dataType: string, options: { dataPort?: number; arguments?: PlistDict } = {}): PlistDict => {
    const dict: PlistDict = { MsgType: 'DataRequestMsg', DataType: dataType };
    if (options.dataPort !== undefined) dict.DataPort = options.dataPort;
    if (options.arguments !== undefined) dict.Arguments = options.arguments;
    return dict;
  },
  progress: (operation: number, progress: number): PlistDict => ({
    MsgType: 'ProgressMsg',
    Operation: operation,
    Progress: progress,
  }),
  status: (status: number, options: { amrError?: number; log?: string } = {}): PlistDict => {
    const dict: PlistDict = { MsgType: 'StatusMsg', Status: status };
    if (options.amrError !== undefined) dict.AMRError = options.amrError;
    if (options.log !== undefined) dict.Log = options.log;
    return dict;
  },
  checkpoint: (id: number, name: string, result = 0, complete = true): PlistDict => ({
    MsgType: 'CheckpointMsg',
    CHECKPOINT_ID: id,
    CHECKPOINT_NAME: name,
    CHECKPOINT_RESULT: result,
    CHECKPOINT_COMPLETE: complete,
  }),
};
