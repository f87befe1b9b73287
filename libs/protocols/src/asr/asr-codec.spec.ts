import fc from 'fast-check';
import { FrameTooLargeError, ProtocolError } from '../errors';
import { encodePlistXml } from '../plist/plist';
import {
  ASR_CHUNK_SIZE,
  asrChecksumCount,
  asrChunks,
  asrDeviceMessages,
  asrPacketInfo,
  AsrPlistDecoder,
  asrWireLength,
  decodeAsrCommand,
  decodeAsrPacketInfo,
} from './asr-codec';

// xmldom reports malformed XML on console.error before throwing; the fuzz cases make plenty.
beforeEach(() => jest.spyOn(console, 'error').mockImplementation(() => undefined));
afterEach(() => jest.restoreAllMocks());

// What a device's asr sends first (libimobiledevice style XML: tabs, trailing newline).
const INITIATE_XML =
  '<?xml version="1.0" encoding="UTF-8"?>\n' +
  '<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">\n' +
  '<plist version="1.0">\n<dict>\n\t<key>Checksum Chunks</key>\n\t<true/>\n' +
  '\t<key>Command</key>\n\t<string>Initiate</string>\n</dict>\n</plist>\n';
const OOB_XML =
  '<?xml version="1.0" encoding="UTF-8"?>\n<plist version="1.0">\n<dict>\n' +
  '\t<key>Command</key>\n\t<string>OOBData</string>\n' +
  '\t<key>OOB Length</key>\n\t<integer>512</integer>\n\t<key>OOB Offset</key>\n\t<integer>0</integer>\n' +
  '</dict>\n</plist>\n';

describe('ASR codec', () => {
  it('splits back-to-back raw XML plists with no length prefix, however they are cut', () => {
    const wire = Buffer.from(INITIATE_XML + OOB_XML);
    const whole = new AsrPlistDecoder().push(wire).map(decodeAsrCommand);
    expect(whole).toEqual([
      expect.objectContaining({ command: 'Initiate', checksumChunks: true }),
      expect.objectContaining({ command: 'OOBData', offset: 0, length: 512 }),
    ]);
    fc.assert(
      fc.property(fc.array(fc.nat(wire.length), { maxLength: 6 }), (cuts) => {
        const decoder = new AsrPlistDecoder();
        const points = [...new Set([0, ...cuts, wire.length])].sort((a, b) => a - b);
        const out = [];
        for (let i = 1; i < points.length; i++)
          out.push(...decoder.push(wire.subarray(points[i - 1], points[i])));
        expect(out.map(decodeAsrCommand)).toEqual(whole);
        expect(decoder.buffered).toBe(0);
      }),
    );
  });

  it('decodes the commands, including a first message without Command', () => {
    expect(decodeAsrCommand(asrDeviceMessages.initiate(false))).toEqual(
      expect.objectContaining({ command: 'Initiate', checksumChunks: false }),
    );
    expect(decodeAsrCommand(asrDeviceMessages.oobData(299744, 256))).toEqual(
      expect.objectContaining({ command: 'OOBData', offset: 299744, length: 256 }),
    );
    expect(decodeAsrCommand(asrDeviceMessages.payload())).toEqual(
      expect.objectContaining({ command: 'Payload' }),
    );
    expect(decodeAsrCommand({ 'Checksum Chunks': true })).toEqual(
      expect.objectContaining({ command: 'missing', checksumChunks: true }),
    );
    expect(decodeAsrCommand({ Command: 'Abort' })).toEqual(
      expect.objectContaining({ command: 'unknown', name: 'Abort' }),
    );
    expect(() => decodeAsrCommand({ Command: 'OOBData', 'OOB Offset': 1 })).toThrow(ProtocolError);
    expect(() => decodeAsrCommand({ Command: 'OOBData', 'OOB Offset': -1, 'OOB Length': 2 })).toThrow(
      ProtocolError,
    );
  });

  it('builds packet info with and without the checksum chunk size', () => {
    expect(asrPacketInfo(300000, true)).toEqual({
      'Checksum Chunk Size': 131072,
      'FEC Slice Stride': 40,
      'Packet Payload Size': 1450,
      'Packets Per FEC': 25,
      Payload: { Port: 1, Size: 300000 },
      'Stream ID': 1,
      Version: 1,
    });
    expect(asrPacketInfo(1000, false)).not.toHaveProperty('Checksum Chunk Size');
    expect(decodeAsrPacketInfo(asrPacketInfo(300000, true))).toEqual({
      payloadSize: 300000,
      checksumChunkSize: 131072,
    });
    expect(() => decodeAsrPacketInfo({})).toThrow(ProtocolError);
    expect(encodePlistXml(asrPacketInfo(2 ** 40, true)).length).toBeLessThan(64 * 1024);
  });

  it('lays out the payload: 0x20000 chunks, a SHA-1 after each, one SHA-1 for an empty payload', () => {
    expect(ASR_CHUNK_SIZE).toBe(131072);
    expect([...asrChunks(300000)]).toEqual([
      { index: 0, offset: 0, length: 131072 },
      { index: 1, offset: 131072, length: 131072 },
      { index: 2, offset: 262144, length: 37856 },
    ]);
    expect(asrWireLength(300000, true)).toBe(300000 + 3 * 20);
    expect(asrWireLength(300000, false)).toBe(300000);
    expect(asrWireLength(131072, true)).toBe(131072 + 20);
    expect(asrWireLength(131073, true)).toBe(131073 + 40);
    expect(asrChecksumCount(0)).toBe(1);
    expect(asrWireLength(0, true)).toBe(20);
    expect([...asrChunks(0)]).toEqual([{ index: 0, offset: 0, length: 0 }]);
    fc.assert(
      fc.property(fc.nat(2 ** 36), (size) => {
        expect(asrWireLength(size, true)).toBe(size + 20 * Math.max(1, Math.ceil(size / 0x20000)));
      }),
    );
  });

  it('refuses a plist over 64 KiB, or 64 KiB without a closing tag, before buffering more', () => {
    const huge = Buffer.from(encodePlistXml({ Command: 'X', pad: 'a'.repeat(70 * 1024) }));
    expect(() => new AsrPlistDecoder().push(huge)).toThrow(FrameTooLargeError);
    const decoder = new AsrPlistDecoder();
    decoder.push(Buffer.from(`<${'A'.repeat(40 * 1024 - 1)}`));
    expect(() => decoder.push(Buffer.alloc(40 * 1024, 0x41))).toThrow(FrameTooLargeError);
  });

  it('refuses at once bytes that cannot start an XML plist, naming them', () => {
    expect(() => new AsrPlistDecoder().push(Buffer.from('  this is not a plist'))).toThrow(
      'ASR message is not an XML plist (it starts with "this is not a pl")',
    );
    expect(new AsrPlistDecoder().push(Buffer.from('<?xml version='))).toEqual([]);
  });

  it('hands over raw bytes that follow a plist (the device side after packet info)', () => {
    const decoder = new AsrPlistDecoder();
    const info = encodePlistXml(asrPacketInfo(10, false));
    expect(decoder.push(Buffer.concat([info, Buffer.from('RAW')]))).toHaveLength(1);
    expect(decoder.takeRemaining().toString()).toBe('RAW');
  });

  it('fails only with ProtocolError on arbitrary byte streams, holding at most 64 KiB', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.uint8Array({ maxLength: 300 }),
          fc.tuple(fc.nat(INITIATE_XML.length - 1), fc.integer({ min: 0, max: 255 })).map(([at, byte]) => {
            const copy = Buffer.from(INITIATE_XML + OOB_XML);
            copy[at] = byte;
            return copy;
          }),
        ),
        (bytes) => {
          const decoder = new AsrPlistDecoder();
          try {
            for (const dict of decoder.push(bytes)) decodeAsrCommand(dict);
          } catch (error) {
            expect(error).toBeInstanceOf(ProtocolError);
          }
          expect(decoder.buffered).toBeLessThanOrEqual(64 * 1024);
        },
      ),
      { numRuns: 300 },
    );
  });
});
