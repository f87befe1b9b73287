import fc from 'fast-check';
import { FrameTooLargeError, ProtocolError } from '../errors';
import { FrameDecoder } from '../framing/frame-decoder';
import {
  decodeAttached,
  decodeDeviceList,
  decodeEvent,
  decodeUsbmuxHeader,
  decodeUsbmuxPacket,
  encodeAttached,
  encodeUsbmuxHeader,
  encodeUsbmuxPlist,
  resultBody,
  resultNumber,
  swapPort,
  USBMUX_HEADER_LENGTH,
  UsbmuxMessage,
  usbmuxFormat,
  usbmuxRequests,
} from './usbmux-codec';

// Byte-for-byte copy of test/fixtures/usbmux/idevice_id-list-devices.bin: what `idevice_id -l`
// (libusbmuxd 2.0.2) sent to a TCP listener given as USBMUXD_SOCKET_ADDRESS. The integration
// test usbmux-idevice-tools.test.ts re-captures it from the real tool and compares.
const IDEVICE_ID_LIST_DEVICES = Buffer.concat([
  Buffer.from('ab010000' + '01000000' + '08000000' + '01000000', 'hex'),
  Buffer.from(
    '<?xml version="1.0" encoding="UTF-8"?>\n' +
      '<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">\n' +
      '<plist version="1.0">\n<dict>\n' +
      '\t<key>ClientVersionString</key>\n\t<string>libusbmuxd 2.0.2</string>\n' +
      '\t<key>MessageType</key>\n\t<string>ListDevices</string>\n' +
      '\t<key>ProgName</key>\n\t<string>idevice_id</string>\n' +
      '\t<key>kLibUSBMuxVersion</key>\n\t<integer>3</integer>\n' +
      '</dict>\n</plist>\n',
    'utf8',
  ),
]);

// xmldom reports malformed XML on console.error before throwing; the fuzz cases make plenty.
beforeEach(() => jest.spyOn(console, 'error').mockImplementation(() => undefined));
afterEach(() => jest.restoreAllMocks());

describe('usbmux codec', () => {
  it('decodes the captured idevice_id ListDevices packet', () => {
    expect(IDEVICE_ID_LIST_DEVICES.length).toBe(427);
    const [frame] = new FrameDecoder(usbmuxFormat()).push(IDEVICE_ID_LIST_DEVICES);
    const packet = decodeUsbmuxPacket(frame);
    expect(packet.header).toEqual({ length: 0x1ab, version: 1, message: UsbmuxMessage.Plist, tag: 1 });
    expect(packet.body).toEqual({
      ClientVersionString: 'libusbmuxd 2.0.2',
      MessageType: 'ListDevices',
      ProgName: 'idevice_id',
      kLibUSBMuxVersion: 3,
    });
  });

  it('writes the header little-endian: length, version, message, tag', () => {
    const bytes = encodeUsbmuxHeader({ length: 0x1ab, version: 1, message: 8, tag: 0x01020304 });
    expect(bytes.toString('hex')).toBe('ab010000' + '01000000' + '08000000' + '04030201');
    expect(decodeUsbmuxHeader(bytes)).toEqual({ length: 0x1ab, version: 1, message: 8, tag: 0x01020304 });
    expect(() => decodeUsbmuxHeader(bytes.subarray(0, 15))).toThrow(ProtocolError);
  });

  it('encodes a request whose header length covers header and XML body', () => {
    const packet = encodeUsbmuxPlist(
      7,
      usbmuxRequests.listDevices({ progName: 'bench', clientVersion: 'x' }),
    );
    const header = decodeUsbmuxHeader(packet);
    expect(header).toEqual({ length: packet.length, version: 1, message: 8, tag: 7 });
    expect(packet.subarray(USBMUX_HEADER_LENGTH, USBMUX_HEADER_LENGTH + 5).toString()).toBe('<?xml');
    expect(decodeUsbmuxPacket(packet).body).toEqual({
      MessageType: 'ListDevices',
      ClientVersionString: 'x',
      ProgName: 'bench',
      kLibUSBMuxVersion: 3,
    });
  });

  it('swaps the Connect port to network order: 62078 ↔ 32498, 12345 → 14640, 1082 → 14852', () => {
    expect(swapPort(62078)).toBe(32498);
    expect(swapPort(32498)).toBe(62078);
    expect(swapPort(12345)).toBe(14640);
    expect(swapPort(1082)).toBe(14852);
    expect(usbmuxRequests.connect(3, 62078).PortNumber).toBe(32498);
    expect(() => swapPort(0)).toThrow(RangeError);
    expect(() => swapPort(65536)).toThrow(RangeError);
    fc.assert(fc.property(fc.integer({ min: 1, max: 0xfeff }), (port) => swapPort(swapPort(port)) === port));
  });

  it('refuses a packet whose header length disagrees with the frame, or a non-plist packet', () => {
    const packet = encodeUsbmuxPlist(1, resultBody(0));
    expect(() => decodeUsbmuxPacket(packet.subarray(0, packet.length - 1))).toThrow(ProtocolError);
    const binary = Buffer.from(packet);
    binary.writeUInt32LE(0, 4);
    expect(() => decodeUsbmuxPacket(binary)).toThrow(/only the plist protocol/);
  });

  it('decodes device records, events and Result numbers', () => {
    const device = {
      deviceId: 5,
      serialNumber: '00008015-0000000000001234',
      connectionType: 'USB',
      productId: 0x12a8,
      locationId: 0x01140000,
      connectionSpeed: 480000000,
    };
    expect(decodeAttached(encodeAttached(device))).toEqual(device);
    expect(decodeDeviceList({ DeviceList: [encodeAttached(device)] })).toEqual([device]);
    expect(decodeEvent({ MessageType: 'Detached', DeviceID: 5 })).toEqual({ type: 'detached', deviceId: 5 });
    expect(decodeEvent({ MessageType: 'Paired', DeviceID: 5 })).toEqual({ type: 'paired', deviceId: 5 });
    expect(decodeEvent({ MessageType: 'Result', Number: 0 })).toBeUndefined();
    expect(resultNumber(resultBody(3))).toBe(3);
    expect(resultNumber({ DeviceList: [] })).toBeUndefined();
    expect(() => decodeAttached({ MessageType: 'Attached', DeviceID: 1 })).toThrow(ProtocolError);
    expect(() => decodeDeviceList({})).toThrow(ProtocolError);
  });

  it('refuses a frame announcing 4 GiB from its header alone', () => {
    const decoder = new FrameDecoder(usbmuxFormat());
    expect(() => decoder.push(Buffer.from('ffffffff010000000800000001000000', 'hex'))).toThrow(
      FrameTooLargeError,
    );
  });

  it('never fails with anything but a ProtocolError on arbitrary bytes in arbitrary chunks', () => {
    const validPacket = encodeUsbmuxPlist(2, resultBody(0));
    fc.assert(
      fc.property(
        fc.oneof(
          fc.uint8Array({ maxLength: 600 }),
          // mutate a valid packet: truncation, bit flips, header lies
          fc.tuple(fc.nat(validPacket.length - 1), fc.integer({ min: 0, max: 255 })).map(([at, byte]) => {
            const copy = Buffer.from(validPacket);
            copy[at] = byte;
            return new Uint8Array(copy);
          }),
        ),
        fc.array(fc.nat(64), { maxLength: 8 }),
        (bytes, cuts) => {
          const decoder = new FrameDecoder(usbmuxFormat());
          try {
            let offset = 0;
            for (const cut of [...cuts, bytes.length]) {
              const end = Math.min(bytes.length, offset + cut);
              for (const frame of decoder.push(bytes.subarray(offset, end))) decodeUsbmuxPacket(frame);
              offset = end;
            }
          } catch (error) {
            if (!(error instanceof ProtocolError)) throw error;
          }
          expect(decoder.buffered).toBeLessThanOrEqual(bytes.length);
        },
      ),
      { numRuns: 300 },
    );
  });
});
