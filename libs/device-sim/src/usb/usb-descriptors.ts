// Standard descriptors of a simulated device (USB 2.0 §9.6): what GET_DESCRIPTOR answers and
// what a umockdev record's sysfs `descriptors` attribute holds (device descriptor followed by the
// configuration with its interfaces and endpoints).
import { encodeLangIdDescriptor, encodeUsbStringDescriptor } from '@bench/protocols';
import { UsbTransportError } from '@bench/usb-transport';
import type { SimControlSetup, SimDeviceDescriptor, SimUsbFunction } from './usb-function';

const DT_DEVICE = 1;
const DT_CONFIG = 2;
const DT_STRING = 3;
const DT_INTERFACE = 4;
const DT_ENDPOINT = 5;
const BULK = 2;

export function encodeDeviceDescriptor(d: SimDeviceDescriptor): Buffer {
  const out = Buffer.alloc(18);
  out[0] = 18;
  out[1] = DT_DEVICE;
  out.writeUInt16LE(d.bcdUSB, 2);
  out[4] = d.deviceClass;
  out[7] = d.maxPacketSize0;
  out.writeUInt16LE(d.vendorId, 8);
  out.writeUInt16LE(d.productId, 10);
  out.writeUInt16LE(d.bcdDevice, 12);
  out[14] = d.manufacturerIndex;
  out[15] = d.productIndex;
  out[16] = d.serialNumberIndex;
  out[17] = 1;
  return out;
}

export function encodeConfigurationDescriptor(d: SimDeviceDescriptor): Buffer {
  const parts: Buffer[] = [];
  for (const iface of d.interfaces) {
    for (const alt of iface.alternates) {
      parts.push(
        Buffer.from([
          9,
          DT_INTERFACE,
          iface.number,
          alt.alternate,
          alt.endpoints.length,
          iface.interfaceClass,
          iface.interfaceSubClass,
          iface.interfaceProtocol,
          0,
        ]),
      );
      for (const ep of alt.endpoints) {
        const endpoint = Buffer.from([7, DT_ENDPOINT, ep.address, BULK, 0, 0, 0]);
        endpoint.writeUInt16LE(ep.maxPacketSize, 4);
        parts.push(endpoint);
      }
    }
  }
  const header = Buffer.alloc(9);
  const body = Buffer.concat(parts);
  header[0] = 9;
  header[1] = DT_CONFIG;
  header.writeUInt16LE(9 + body.length, 2);
  header[4] = d.interfaces.length;
  header[5] = 1; // bConfigurationValue
  header[7] = 0x80; // bus-powered
  header[8] = Math.min(255, Math.round(d.maxPowerMa / 2));
  return Buffer.concat([header, body]);
}

/** sysfs `descriptors`: device descriptor then the whole configuration. */
export function encodeSysfsDescriptors(d: SimDeviceDescriptor): Buffer {
  return Buffer.concat([encodeDeviceDescriptor(d), encodeConfigurationDescriptor(d)]);
}

/**
 * Answers a standard GET_DESCRIPTOR (device, configuration, string); undefined when the request
 * is not one. Unknown strings and descriptor types stall.
 */
export function answerGetDescriptor(fn: SimUsbFunction, setup: SimControlSetup): Buffer | undefined {
  if (setup.bmRequestType !== 0x80 || setup.bRequest !== 0x06) return undefined;
  const type = setup.wValue >> 8;
  const index = setup.wValue & 0xff;
  let bytes: Buffer | undefined;
  if (type === DT_DEVICE) bytes = encodeDeviceDescriptor(fn.descriptor);
  else if (type === DT_CONFIG && index === 0) bytes = encodeConfigurationDescriptor(fn.descriptor);
  else if (type === DT_STRING) {
    const text = index === 0 ? undefined : fn.stringDescriptor(index);
    bytes =
      index === 0
        ? encodeLangIdDescriptor()
        : text === undefined
          ? undefined
          : encodeUsbStringDescriptor(text);
  }
  if (!bytes) throw new UsbTransportError('pipe', `GET_DESCRIPTOR 0x${setup.wValue.toString(16)}: stall`);
  return bytes.subarray(0, setup.wLength);
}

/** A STALL for a request the device does not take. */
export function usbStall(what: string): UsbTransportError {
  return new UsbTransportError('pipe', `${what}: stall`);
}
