// FDR control channel (device port 1082 in restore mode): the host writes the 10-byte prelude
// `BeginCtrl\0`, then 4-byte little-endian length + binary plist messages both ways
// (idevicerestore-1.0.0 notes §2, step 4). idevicerestore treats FDR failure as non-fatal.
import { ProtocolError } from '../errors';
import {
  encodeLittleEndianLengthPrefixed,
  framePayload,
  littleEndianLengthFormat,
  type FrameFormat,
} from '../framing/frame-decoder';
import { requireInteger } from '../plist/fields';
import { decodePlistDict, encodePlistBinary, type PlistDict } from '../plist/plist';

export const FDR_PORT = 1082;
export const FDR_CTRL_PRELUDE = Buffer.from('BeginCtrl\0', 'latin1');
export const FDR_CTRL_PROTO_VERSION = 2;

/** FDR messages are small; 1 MiB is far above anything seen. */
export function fdrMessageFormat(maxPayload = 1024 * 1024): FrameFormat {
  return littleEndianLengthFormat('FDR', maxPayload);
}

export function encodeFdrMessage(message: PlistDict): Buffer {
  return encodeLittleEndianLengthPrefixed(encodePlistBinary(message));
}

/** Decodes one complete frame from FrameDecoder(fdrMessageFormat()). */
export function decodeFdrMessage(frame: Buffer): PlistDict {
  return decodePlistDict(framePayload(frame));
}

export function fdrBeginCtrlRequest(): PlistDict {
  return { Command: 'BeginCtrl', CtrlProtoVersion: FDR_CTRL_PROTO_VERSION };
}

/** What the host writes first: the prelude and the BeginCtrl message, in one buffer. */
export function encodeFdrHandshake(): Buffer {
  return Buffer.concat([FDR_CTRL_PRELUDE, encodeFdrMessage(fdrBeginCtrlRequest())]);
}

export function decodeFdrConnPort(reply: PlistDict): number {
  const port = requireInteger(reply, 'ConnPort', 'FDR BeginCtrl reply');
  if (port < 1 || port > 0xffff)
    throw new ProtocolError(`FDR ConnPort ${port} is not a TCP port`, 'ConnPort');
  return port;
}

/** Device side: checks the prelude at the start of the stream and returns the bytes after it. */
export function stripFdrPrelude(bytes: Buffer): Buffer {
  if (bytes.length < FDR_CTRL_PRELUDE.length) {
    throw new ProtocolError(
      `FDR prelude needs ${FDR_CTRL_PRELUDE.length} bytes, got ${bytes.length}`,
      'FDR prelude',
    );
  }
  if (!bytes.subarray(0, FDR_CTRL_PRELUDE.length).equals(FDR_CTRL_PRELUDE)) {
    throw new ProtocolError('FDR control channel does not start with BeginCtrl\\0', 'FDR prelude');
  }
  return bytes.subarray(FDR_CTRL_PRELUDE.length);
}
