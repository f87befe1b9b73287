// USB string descriptors (USB 2.0 §9.6.7): bLength, bDescriptorType 3, UTF-16LE text. Index 0
// holds the language ids instead. iBoot devices answer language 0x0409.
import { ProtocolError } from '../errors';

export const USB_DESCRIPTOR_TYPE_STRING = 0x03;
export const USB_LANGID_EN_US = 0x0409;
/** GET_DESCRIPTOR: standard, device, IN. */
export const GET_DESCRIPTOR = { bmRequestType: 0x80, bRequest: 0x06 } as const;
/** (255 − 2) / 2: what fits in one descriptor. */
export const MAX_USB_STRING_LENGTH = 126;

export function stringDescriptorRequest(index: number, langId = USB_LANGID_EN_US) {
  return { ...GET_DESCRIPTOR, wValue: (USB_DESCRIPTOR_TYPE_STRING << 8) | (index & 0xff), wIndex: langId };
}

export function encodeUsbStringDescriptor(text: string): Buffer {
  if (text.length > MAX_USB_STRING_LENGTH) {
    throw new RangeError(
      `a USB string holds at most ${MAX_USB_STRING_LENGTH} characters, got ${text.length}`,
    );
  }
  const body = Buffer.from(text, 'utf16le');
  return Buffer.concat([Uint8Array.of(body.length + 2, USB_DESCRIPTOR_TYPE_STRING), body]);
}

export function encodeLangIdDescriptor(langIds: readonly number[] = [USB_LANGID_EN_US]): Buffer {
  const out = Buffer.alloc(2 + 2 * langIds.length);
  out[0] = out.length;
  out[1] = USB_DESCRIPTOR_TYPE_STRING;
  langIds.forEach((id, i) => out.writeUInt16LE(id, 2 + 2 * i));
  return out;
}

export function decodeUsbStringDescriptor(bytes: Uint8Array): string {
  const what = 'USB string descriptor';
  if (bytes.length < 2 || bytes[1] !== USB_DESCRIPTOR_TYPE_STRING) {
    throw new ProtocolError(`${what}: not a string descriptor (${bytes.length} bytes)`, what);
  }
  const length = Math.min(bytes[0], bytes.length);
  if (length < 2 || length % 2 !== 0) throw new ProtocolError(`${what}: bad bLength ${bytes[0]}`, what);
  return Buffer.from(bytes.buffer, bytes.byteOffset + 2, length - 2).toString('utf16le');
}
