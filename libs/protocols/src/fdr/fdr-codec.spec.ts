import { ProtocolError } from '../errors';
import { FrameDecoder } from '../framing/frame-decoder';
import {
  decodeFdrConnPort,
  decodeFdrMessage,
  encodeFdrHandshake,
  encodeFdrMessage,
  FDR_CTRL_PRELUDE,
  fdrMessageFormat,
  stripFdrPrelude,
} from './fdr-codec';

// plistlib (FMT_BINARY) of {Command: BeginCtrl, CtrlProtoVersion: 2}.
const PYTHON_BPLIST_BEGIN_CTRL =
  '62706c6973743030d20102030457436f6d6d616e645f10104374726c50726f746f56657273696f6e59426567696e4374726c10' +
  '02080d1528320000000000000101000000000000000500000000000000000000000000000034';

describe('FDR codec', () => {
  it('starts the control channel with BeginCtrl\\0 and a little-endian length plist', () => {
    expect(FDR_CTRL_PRELUDE.toString('hex')).toBe('426567696e4374726c00');
    const handshake = encodeFdrHandshake();
    expect(handshake.subarray(0, 10)).toEqual(FDR_CTRL_PRELUDE);
    const rest = stripFdrPrelude(handshake);
    const length = rest.readUInt32LE(0);
    expect(length).toBe(rest.length - 4);
    expect(rest.subarray(4, 12).toString()).toBe('bplist00');
    const [frame] = new FrameDecoder(fdrMessageFormat()).push(rest);
    expect(decodeFdrMessage(frame)).toEqual({ Command: 'BeginCtrl', CtrlProtoVersion: 2 });
  });

  it('decodes the request as another implementation writes it', () => {
    const body = Buffer.from(PYTHON_BPLIST_BEGIN_CTRL, 'hex');
    const wire = Buffer.concat([FDR_CTRL_PRELUDE, Buffer.from([body.length, 0, 0, 0]), body]);
    const [frame] = new FrameDecoder(fdrMessageFormat()).push(stripFdrPrelude(wire));
    expect(decodeFdrMessage(frame)).toEqual({ Command: 'BeginCtrl', CtrlProtoVersion: 2 });
  });

  it('reads ConnPort from the reply', () => {
    const [frame] = new FrameDecoder(fdrMessageFormat()).push(encodeFdrMessage({ ConnPort: 1083 }));
    expect(decodeFdrConnPort(decodeFdrMessage(frame))).toBe(1083);
    expect(() => decodeFdrConnPort({})).toThrow(/ConnPort/);
    expect(() => decodeFdrConnPort({ ConnPort: 0 })).toThrow(ProtocolError);
  });

  it('refuses a wrong prelude and an oversized frame', () => {
    expect(() => stripFdrPrelude(Buffer.from('HelloCtrl\0'))).toThrow(ProtocolError);
    expect(() => stripFdrPrelude(Buffer.from('Begin'))).toThrow(ProtocolError);
    expect(() => new FrameDecoder(fdrMessageFormat()).push(Buffer.from('ffffffff', 'hex'))).toThrow(
      ProtocolError,
    );
  });
});
