// The bridge wire format on literal bytes: length, header length, JSON header, body.
import { FrameTooLargeError, ProtocolError } from '@bench/protocols';
import { BridgeFrameDecoder, BridgeMessage, encodeBridgeFrame, HarnessMessage } from './bridge-protocol';

describe('usb bridge frames', () => {
  it('encodes length, header length, JSON header and body', () => {
    const frame = encodeBridgeFrame({ t: 'done', seq: 7, status: 0, actual: 2 }, Uint8Array.of(0xde, 0xad));
    const header = '{"t":"done","seq":7,"status":0,"actual":2}';
    expect(frame.readUInt32BE(0)).toBe(4 + header.length + 2);
    expect(frame.readUInt32BE(4)).toBe(header.length);
    expect(frame.subarray(8, 8 + header.length).toString()).toBe(header);
    expect([...frame.subarray(8 + header.length)]).toEqual([0xde, 0xad]);
  });

  it('decodes what the harness sends, split anywhere, with the body as bytes', () => {
    const urb = encodeBridgeFrame(
      {
        t: 'urb',
        seq: 1,
        dev: 'sim:1-3#4',
        kind: 'control',
        endpoint: 0,
        setup: { bmRequestType: 0x40, bRequest: 0, wValue: 0, wIndex: 0, wLength: 3 },
        length: 0,
      },
      Buffer.from('go\0'),
    );
    const hello = encodeBridgeFrame({ t: 'hello', root: '/tmp/umockdev.x' });
    const bytes = Buffer.concat([hello, urb]);
    const decoder = new BridgeFrameDecoder(HarnessMessage);
    const frames = [
      ...decoder.push(bytes.subarray(0, 5)),
      ...decoder.push(bytes.subarray(5, 40)),
      ...decoder.push(bytes.subarray(40)),
    ];
    expect(frames.map((f) => f.message.t)).toEqual(['hello', 'urb']);
    expect(frames[1].body.toString()).toBe('go\0');
  });

  it('refuses malformed headers with a ProtocolError naming the field', () => {
    const decoder = () => new BridgeFrameDecoder(BridgeMessage);
    const raw = (header: string) => {
      const bytes = Buffer.from(header);
      const prefix = Buffer.alloc(8);
      prefix.writeUInt32BE(4 + bytes.length, 0);
      prefix.writeUInt32BE(bytes.length, 4);
      return Buffer.concat([prefix, bytes]);
    };
    expect(() => decoder().push(raw('{"t":"done","seq":1,"status":5,"actual":0}'))).toThrow(
      /usb bridge message: status: /,
    );
    expect(() => decoder().push(raw('{"t":"explode"}'))).toThrow(ProtocolError);
    expect(() => decoder().push(raw('not json'))).toThrow(/not JSON/);
    const lying = raw('{}');
    lying.writeUInt32BE(100, 4);
    expect(() => decoder().push(lying)).toThrow(/does not fit the frame/);
    expect(() => decoder().push(Buffer.from([0x7f, 0, 0, 0]))).toThrow(FrameTooLargeError);
  });
});
