import { ProtocolError } from '../errors';
import {
  IBOOT_PRODUCT_IDS,
  ibootModeOfProductId,
  isIBootDevice,
  opensConsoleInterface,
  usesDfuRequests,
} from './iboot-modes';
import {
  decodeIBootCommand,
  decodeIBootReply,
  encodeIBootCommand,
  encodeIBootReply,
  IBootRequest,
  splitIBootCommand,
} from './iboot-requests';
import { planRecoveryUpload } from './recovery-upload';
import {
  decodeUsbStringDescriptor,
  encodeLangIdDescriptor,
  encodeUsbStringDescriptor,
  stringDescriptorRequest,
} from './usb-string-descriptor';

describe('iBoot modes from product ids', () => {
  it.each([
    [0x1227, 'dfu'],
    [0x1222, 'wtf'],
    [0xf014, 'port-dfu'],
    [0x1280, 'recovery'],
    [0x1281, 'recovery'],
    [0x1282, 'recovery'],
    [0x1283, 'recovery'],
    [0x12a8, undefined],
    [0x1881, undefined],
  ])('0x%s → %s', (pid, mode) => {
    expect(ibootModeOfProductId(pid)).toBe(mode);
  });

  it('knows which modes use DFU requests and which recovery ids claim the console interface', () => {
    expect(usesDfuRequests('dfu')).toBe(true);
    expect(usesDfuRequests('port-dfu')).toBe(true);
    expect(usesDfuRequests('recovery')).toBe(false);
    expect(opensConsoleInterface(0x1281)).toBe(false);
    expect(opensConsoleInterface(0x1282)).toBe(true);
    expect(opensConsoleInterface(0x1227)).toBe(false);
    expect(isIBootDevice(0x05ac, 0x1281)).toBe(true);
    expect(isIBootDevice(0x05ac, 0x12a8)).toBe(false);
    expect(isIBootDevice(0x1234, 0x1281)).toBe(false);
    expect(IBOOT_PRODUCT_IDS).toHaveLength(7);
  });
});

describe('control request table', () => {
  it('matches restore-protocol.md §2.1', () => {
    expect(IBootRequest.command).toEqual({ bmRequestType: 0x40, bRequest: 0, wValue: 0, wIndex: 0 });
    expect(IBootRequest.jumpCommand).toEqual({ bmRequestType: 0x40, bRequest: 1, wValue: 0, wIndex: 0 });
    expect(IBootRequest.readReply).toEqual({ bmRequestType: 0xc0, bRequest: 0, wValue: 0, wIndex: 0 });
    expect(IBootRequest.startUpload).toEqual({ bmRequestType: 0x41, bRequest: 0, wValue: 0, wIndex: 0 });
    expect(IBootRequest.dfuDnload(7)).toEqual({ bmRequestType: 0x21, bRequest: 1, wValue: 7, wIndex: 0 });
    expect(IBootRequest.dfuUpload).toMatchObject({ bmRequestType: 0xa1, bRequest: 2 });
    expect(IBootRequest.dfuGetStatus).toMatchObject({ bmRequestType: 0xa1, bRequest: 3 });
    expect(IBootRequest.dfuClrStatus).toMatchObject({ bmRequestType: 0x21, bRequest: 4 });
    expect(IBootRequest.dfuGetState).toMatchObject({ bmRequestType: 0xa1, bRequest: 5 });
    expect(IBootRequest.dfuAbort).toMatchObject({ bmRequestType: 0x21, bRequest: 6 });
  });
});

describe('iBoot commands', () => {
  it('encodes ASCII plus a NUL with bRequest 0', () => {
    const { setup, data } = encodeIBootCommand('getenv build-version');
    expect(setup.bRequest).toBe(0);
    expect(data).toEqual(Buffer.from('getenv build-version\0', 'latin1'));
  });

  it('uses bRequest 1 for go, bootx and reset only', () => {
    expect(encodeIBootCommand('go').setup.bRequest).toBe(1);
    expect(encodeIBootCommand('bootx').setup.bRequest).toBe(1);
    expect(encodeIBootCommand('reset').setup.bRequest).toBe(1);
    expect(encodeIBootCommand('reboot').setup.bRequest).toBe(0);
    expect(encodeIBootCommand('setenv go 1').setup.bRequest).toBe(0);
  });

  it('refuses commands of 256 characters or more, empty ones, and non-ASCII', () => {
    expect(encodeIBootCommand('x'.repeat(255)).data).toHaveLength(256);
    expect(() => encodeIBootCommand('x'.repeat(256))).toThrow('1–255 characters');
    expect(() => encodeIBootCommand('')).toThrow(RangeError);
    expect(() => encodeIBootCommand('setenv a é')).toThrow('printable ASCII');
  });

  it('decodes the device side and splits arguments, keeping spaces in the rest', () => {
    expect(decodeIBootCommand(Buffer.from('setenv boot-args rd=md0 -progress\0'))).toBe(
      'setenv boot-args rd=md0 -progress',
    );
    expect(splitIBootCommand('setenv boot-args rd=md0 -progress')).toEqual({
      verb: 'setenv',
      args: ['boot-args', 'rd=md0', '-progress'],
      rest: 'boot-args rd=md0 -progress',
    });
    expect(splitIBootCommand('go')).toEqual({ verb: 'go', args: [], rest: '' });
    expect(() => decodeIBootCommand(new Uint8Array(0))).toThrow(ProtocolError);
    expect(() => decodeIBootCommand(new Uint8Array(300))).toThrow(ProtocolError);
    expect(() => decodeIBootCommand(Uint8Array.of(0x01, 0x00))).toThrow('not printable ASCII');
  });

  it('encodes and decodes 0xC0 replies up to the NUL and the asked length', () => {
    expect(encodeIBootReply('iBoot-8422.141.2', 255)).toEqual(Buffer.from('iBoot-8422.141.2\0'));
    expect(encodeIBootReply('abcdef', 3)).toEqual(Buffer.from('abc'));
    expect(decodeIBootReply(Buffer.from('2\0garbage'))).toBe('2');
    expect(decodeIBootReply(Buffer.from('no-nul'))).toBe('no-nul');
  });
});

describe('recovery upload plan', () => {
  it('cuts 0x8000 chunks and adds a ZLP only for multiples of 512', () => {
    expect(planRecoveryUpload(102_400)).toEqual({
      chunks: [
        { offset: 0, length: 32768 },
        { offset: 32768, length: 32768 },
        { offset: 65536, length: 32768 },
        { offset: 98304, length: 4096 },
      ],
      zeroLengthPacket: true,
    });
    expect(planRecoveryUpload(1000)).toEqual({
      chunks: [{ offset: 0, length: 1000 }],
      zeroLengthPacket: false,
    });
    expect(planRecoveryUpload(0x8000).zeroLengthPacket).toBe(true);
    expect(planRecoveryUpload(513).zeroLengthPacket).toBe(false);
    expect(() => planRecoveryUpload(0)).toThrow(RangeError);
  });
});

describe('USB string descriptors', () => {
  it('encodes UTF-16LE with bLength and type 3', () => {
    expect(encodeUsbStringDescriptor('Apple')).toEqual(
      Buffer.from([12, 3, 0x41, 0, 0x70, 0, 0x70, 0, 0x6c, 0, 0x65, 0]),
    );
    expect(encodeLangIdDescriptor()).toEqual(Buffer.from([4, 3, 0x09, 0x04]));
    expect(decodeUsbStringDescriptor(Buffer.from([12, 3, 0x41, 0, 0x70, 0, 0x70, 0, 0x6c, 0, 0x65, 0]))).toBe(
      'Apple',
    );
  });

  it('trusts bLength over trailing bytes and refuses foreign descriptors', () => {
    expect(decodeUsbStringDescriptor(Buffer.from([4, 3, 0x41, 0, 0x42, 0]))).toBe('A');
    expect(() => decodeUsbStringDescriptor(Buffer.from([4, 1, 0, 0]))).toThrow(ProtocolError);
    expect(() => decodeUsbStringDescriptor(Buffer.from([3, 3, 0]))).toThrow('bad bLength');
    expect(() => encodeUsbStringDescriptor('x'.repeat(127))).toThrow(RangeError);
  });

  it('builds the GET_DESCRIPTOR(string) request', () => {
    expect(stringDescriptorRequest(4)).toEqual({
      bmRequestType: 0x80,
      bRequest: 6,
      wValue: 0x0304,
      wIndex: 0x0409,
    });
  });
});
