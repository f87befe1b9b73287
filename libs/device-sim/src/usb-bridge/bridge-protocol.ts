// The wire between the simulator's USB bridge (Node, the device side) and the umockdev harness
// (test/usb-emulation/usbdevfs_harness.py, the usbdevfs side). One frame = 4-byte big-endian
// length, then a 4-byte big-endian header length, a JSON header and the transfer bytes, if any.
// The JSON header is validated here, so a harness bug becomes a ProtocolError naming the field.
import { FrameDecoder, ProtocolError, type FrameFormat } from '@bench/protocols';
import { z } from 'zod';

/** Sysfs bytes and URB data are small (uploads go in 32 KiB chunks); anything near this is a bug. */
const MAX_FRAME = 16 * 1024 * 1024;
const MAX_HEADER = 64 * 1024;

export const BRIDGE_FRAME_FORMAT: FrameFormat = {
  name: 'usb bridge',
  headerLength: 4,
  frameLength: (header) => 4 + header.readUInt32BE(0),
  maxFrameLength: MAX_FRAME,
};

const byte = z.number().int().min(0).max(0xff);
const word = z.number().int().min(0).max(0xffff);
const seq = z.number().int().min(0);

const Setup = z.strictObject({
  bmRequestType: byte,
  bRequest: byte,
  wValue: word,
  wIndex: word,
  wLength: word,
});

/** What the harness sends: its testbed, forwarded usbdevfs requests, acknowledgements. */
export const HarnessMessage = z.discriminatedUnion('t', [
  /** The testbed exists: programs run with UMOCKDEV_DIR=root see its devices. */
  z.strictObject({ t: z.literal('hello'), root: z.string().min(1) }),
  /** A control or bulk URB (SUBMITURB, or the synchronous CONTROL ioctl); OUT data in the body. */
  z.strictObject({
    t: z.literal('urb'),
    seq,
    dev: z.string(),
    kind: z.enum(['control', 'bulk']),
    endpoint: byte,
    setup: Setup.optional(),
    /** Bytes wanted for IN transfers. */
    length: z.number().int().min(0),
  }),
  /** DISCARDURB, or the client closed the device with the URB outstanding. */
  z.strictObject({ t: z.literal('cancel'), seq }),
  /** Synchronous device requests usbdevfs turns into standard requests or a port reset. */
  z.strictObject({
    t: z.literal('call'),
    seq,
    dev: z.string(),
    op: z.enum(['set-interface', 'set-configuration', 'reset']),
    args: z.array(z.number().int().min(0)).max(2),
  }),
  /** The device is in the testbed (its "add" uevent went out) or gone from it. */
  z.strictObject({ t: z.literal('added'), dev: z.string() }),
  z.strictObject({ t: z.literal('removed'), dev: z.string() }),
  /** The harness could not do what it was asked (the message says what). */
  z.strictObject({ t: z.literal('error'), dev: z.string().optional(), message: z.string() }),
]);
export type HarnessMessage = z.infer<typeof HarnessMessage>;

/** What the bridge sends. */
export const BridgeMessage = z.discriminatedUnion('t', [
  /**
   * Put a device into the testbed: `record` is umockdev's text format (P:/N:/E:/A:/H: lines).
   * `serve` devices get an ioctl handler whose requests come back here; the others (root hubs,
   * hubs) are topology only.
   */
  z.strictObject({
    t: z.literal('add'),
    dev: z.string(),
    syspath: z.string(),
    devnode: z.string(),
    devnum: z.number().int().min(1).max(127),
    record: z.string(),
    serve: z.boolean(),
    interfaces: z.array(byte),
  }),
  /** The device left: "remove" uevent, open handles get ENODEV from now on. */
  z.strictObject({ t: z.literal('remove'), dev: z.string() }),
  /** The answer to an `urb` or `call`: status 0 or a negative errno; IN data in the body. */
  z.strictObject({
    t: z.literal('done'),
    seq,
    status: z.number().int().max(0),
    actual: z.number().int().min(0),
  }),
  z.strictObject({ t: z.literal('quit') }),
]);
export type BridgeMessage = z.infer<typeof BridgeMessage>;

export interface BridgeFrame<T> {
  message: T;
  body: Buffer;
}

export function encodeBridgeFrame(
  message: BridgeMessage | HarnessMessage,
  body: Uint8Array = new Uint8Array(0),
): Buffer {
  const header = Buffer.from(JSON.stringify(message), 'utf8');
  const prefix = Buffer.allocUnsafe(8);
  prefix.writeUInt32BE(4 + header.length + body.length, 0);
  prefix.writeUInt32BE(header.length, 4);
  return Buffer.concat([prefix, header, body]);
}

/** Splits a byte stream into validated messages of one direction. */
export class BridgeFrameDecoder<T> {
  private readonly frames = new FrameDecoder(BRIDGE_FRAME_FORMAT);

  constructor(private readonly schema: z.ZodType<T>) {}

  push(chunk: Uint8Array): BridgeFrame<T>[] {
    return this.frames.push(chunk).map((frame) => this.decode(frame));
  }

  private decode(frame: Buffer): BridgeFrame<T> {
    if (frame.length < 8)
      throw new ProtocolError('usb bridge frame without a header length', 'usb bridge frame');
    const headerLength = frame.readUInt32BE(4);
    if (headerLength > MAX_HEADER || 8 + headerLength > frame.length) {
      throw new ProtocolError(
        `usb bridge header length ${headerLength} does not fit the frame`,
        'usb bridge frame',
      );
    }
    let json: unknown;
    try {
      json = JSON.parse(frame.subarray(8, 8 + headerLength).toString('utf8'));
    } catch (error) {
      throw new ProtocolError(
        `usb bridge header is not JSON: ${(error as Error).message}`,
        'usb bridge header',
      );
    }
    const parsed = this.schema.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new ProtocolError(
        `usb bridge message: ${issue.path.join('.') || 'header'}: ${issue.message}`,
        'usb bridge header',
      );
    }
    return { message: parsed.data, body: frame.subarray(8 + headerLength) };
  }
}
