// usbmuxd's client protocol (libusbmuxd / usbmuxd-proto.h): a 16-byte little-endian header
// {length incl. header, version, message, tag} then, for version 1, an XML plist.
import { ProtocolError } from '../errors';
import type { FrameFormat } from '../framing/frame-decoder';
import { optionalInteger, optionalString, requireInteger, requireString } from '../plist/fields';
import { decodePlistDict, encodePlistXml, isPlistDict, type PlistDict } from '../plist/plist';

export const USBMUX_HEADER_LENGTH = 16;
export const USBMUX_PLIST_VERSION = 1;

export const UsbmuxMessage = {
  Result: 1,
  Connect: 2,
  Listen: 3,
  DeviceAdd: 4,
  DeviceRemove: 5,
  DevicePaired: 6,
  Plist: 8,
} as const;

/** `Result.Number` values. */
export const UsbmuxResult = {
  Ok: 0,
  BadCommand: 1,
  BadDevice: 2,
  ConnectionRefused: 3,
  BadVersion: 6,
} as const;

export interface UsbmuxHeader {
  length: number;
  version: number;
  message: number;
  tag: number;
}

export function usbmuxFormat(maxFrame = 4 * 1024 * 1024): FrameFormat {
  return {
    name: 'usbmux',
    headerLength: USBMUX_HEADER_LENGTH,
    frameLength: (header) => header.readUInt32LE(0),
    maxFrameLength: maxFrame,
  };
}

export function encodeUsbmuxHeader(header: UsbmuxHeader): Buffer {
  const out = Buffer.allocUnsafe(USBMUX_HEADER_LENGTH);
  out.writeUInt32LE(header.length, 0);
  out.writeUInt32LE(header.version, 4);
  out.writeUInt32LE(header.message, 8);
  out.writeUInt32LE(header.tag, 12);
  return out;
}

export function decodeUsbmuxHeader(bytes: Uint8Array): UsbmuxHeader {
  if (bytes.length < USBMUX_HEADER_LENGTH) {
    throw new ProtocolError(`usbmux header needs 16 bytes, got ${bytes.length}`, 'usbmux header');
  }
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
  return {
    length: b.readUInt32LE(0),
    version: b.readUInt32LE(4),
    message: b.readUInt32LE(8),
    tag: b.readUInt32LE(12),
  };
}

/** A whole plist-protocol packet: header (version 1, message 8) + XML plist. */
export function encodeUsbmuxPlist(tag: number, body: PlistDict): Buffer {
  const payload = encodePlistXml(body);
  const header = encodeUsbmuxHeader({
    length: USBMUX_HEADER_LENGTH + payload.length,
    version: USBMUX_PLIST_VERSION,
    message: UsbmuxMessage.Plist,
    tag,
  });
  return Buffer.concat([header, payload]);
}

export interface UsbmuxPacket {
  header: UsbmuxHeader;
  body: PlistDict;
}

/** Decodes one complete frame from FrameDecoder(usbmuxFormat()). */
export function decodeUsbmuxPacket(frame: Uint8Array): UsbmuxPacket {
  const header = decodeUsbmuxHeader(frame);
  if (header.length !== frame.length) {
    throw new ProtocolError(
      `usbmux frame is ${frame.length} bytes but its header says ${header.length}`,
      'usbmux frame',
    );
  }
  if (header.version !== USBMUX_PLIST_VERSION || header.message !== UsbmuxMessage.Plist) {
    throw new ProtocolError(
      `usbmux packet uses version ${header.version} message ${header.message}; only the plist protocol (1/8) is spoken`,
      'usbmux packet',
    );
  }
  const body = decodePlistDict(frame.subarray(USBMUX_HEADER_LENGTH));
  return { header, body };
}

/** usbmuxd wants the TCP port already in network byte order, stored as an integer. */
export function swapPort(port: number): number {
  if (!Number.isInteger(port) || port < 1 || port > 0xffff) throw new RangeError(`bad TCP port ${port}`);
  return ((port & 0xff) << 8) | (port >> 8);
}

export interface UsbmuxClientIdentity {
  progName: string;
  clientVersion: string;
}

export const DEFAULT_CLIENT_IDENTITY: UsbmuxClientIdentity = {
  progName: 'bench',
  clientVersion: 'bench-usbmux-1',
};

function request(messageType: string, identity: UsbmuxClientIdentity, extra: PlistDict = {}): PlistDict {
  return {
    MessageType: messageType,
    ClientVersionString: identity.clientVersion,
    ProgName: identity.progName,
    kLibUSBMuxVersion: 3,
    ...extra,
  };
}

export const usbmuxRequests = {
  listDevices: (id = DEFAULT_CLIENT_IDENTITY) => request('ListDevices', id),
  listen: (id = DEFAULT_CLIENT_IDENTITY) => request('Listen', id),
  connect: (deviceId: number, port: number, id = DEFAULT_CLIENT_IDENTITY) =>
    request('Connect', id, { DeviceID: deviceId, PortNumber: swapPort(port) }),
  readBuid: (id = DEFAULT_CLIENT_IDENTITY) => request('ReadBUID', id),
  readPairRecord: (udid: string, id = DEFAULT_CLIENT_IDENTITY) =>
    request('ReadPairRecord', id, { PairRecordID: udid }),
  savePairRecord: (udid: string, record: Uint8Array, deviceId: number, id = DEFAULT_CLIENT_IDENTITY) =>
    request('SavePairRecord', id, { PairRecordID: udid, PairRecordData: record, DeviceID: deviceId }),
  deletePairRecord: (udid: string, id = DEFAULT_CLIENT_IDENTITY) =>
    request('DeletePairRecord', id, { PairRecordID: udid }),
};

export interface UsbmuxDevice {
  deviceId: number;
  serialNumber: string;
  connectionType: string;
  productId?: number;
  locationId?: number;
  connectionSpeed?: number;
}

export type UsbmuxEvent =
  | { type: 'attached'; device: UsbmuxDevice }
  | { type: 'detached'; deviceId: number }
  | { type: 'paired'; deviceId: number };

/** `{MessageType: Attached, DeviceID, Properties: {...}}` (also the items of ListDevices' DeviceList). */
export function decodeAttached(body: PlistDict): UsbmuxDevice {
  const props = body.Properties;
  if (!isPlistDict(props)) throw new ProtocolError('usbmux device record lacks Properties', 'Properties');
  return {
    deviceId: requireInteger(body, 'DeviceID', 'usbmux device record'),
    serialNumber: requireString(props, 'SerialNumber', 'usbmux device Properties'),
    connectionType: optionalString(props, 'ConnectionType') ?? 'USB',
    productId: optionalInteger(props, 'ProductID'),
    locationId: optionalInteger(props, 'LocationID'),
    connectionSpeed: optionalInteger(props, 'ConnectionSpeed'),
  };
}

export function decodeDeviceList(body: PlistDict): UsbmuxDevice[] {
  const list = body.DeviceList;
  if (!Array.isArray(list)) throw new ProtocolError('ListDevices reply lacks DeviceList', 'DeviceList');
  return list.map((item) => {
    if (!isPlistDict(item)) throw new ProtocolError('DeviceList holds a non-dictionary', 'DeviceList');
    return decodeAttached(item);
  });
}

export function decodeEvent(body: PlistDict): UsbmuxEvent | undefined {
  switch (body.MessageType) {
    case 'Attached':
      return { type: 'attached', device: decodeAttached(body) };
    case 'Detached':
      return { type: 'detached', deviceId: requireInteger(body, 'DeviceID', 'Detached event') };
    case 'Paired':
      return { type: 'paired', deviceId: requireInteger(body, 'DeviceID', 'Paired event') };
    default:
      return undefined;
  }
}

export function encodeAttached(device: UsbmuxDevice): PlistDict {
  const props: PlistDict = {
    ConnectionType: device.connectionType,
    DeviceID: device.deviceId,
    SerialNumber: device.serialNumber,
  };
  if (device.connectionSpeed !== undefined) props.ConnectionSpeed = device.connectionSpeed;
  if (device.locationId !== undefined) props.LocationID = device.locationId;
  if (device.productId !== undefined) props.ProductID = device.productId;
  return { MessageType: 'Attached', DeviceID: device.deviceId, Properties: props };
}

export function resultBody(number: number): PlistDict {
  return { MessageType: 'Result', Number: number };
}

/** The `Number` of a Result reply, or undefined when the reply is not a Result. */
export function resultNumber(body: PlistDict): number | undefined {
  return body.MessageType === 'Result' ? requireInteger(body, 'Number', 'usbmux Result') : undefined;
}
