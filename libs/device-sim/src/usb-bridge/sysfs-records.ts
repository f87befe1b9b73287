// Where a simulated device sits in an emulated /sys and /dev, as umockdev records (its text
// format: P: path, N: device node, E: uevent properties, A: attributes, H: binary attributes).
// libusb learns almost everything from sysfs: the device and configuration descriptors from
// `descriptors`, busnum/devnum/speed/bConfigurationValue from their attributes, and the port
// chain from the directory names (`1-1.3` is port 3 of the device at `1-1`), so the records
// carry the simulator's own port paths and addresses.
import type { UsbSpeed } from '@bench/usb-transport';
import { encodeSysfsDescriptors } from '../usb/usb-descriptors';

/** Every simulated controller hangs off one xHCI, as the two root hubs of a real xHCI do. */
const CONTROLLER_SYSFS = '/devices/pci0000:00/0000:00:14.0';

const SYSFS_SPEED: Record<UsbSpeed, string> = {
  low: '1.5',
  full: '12',
  high: '480',
  super: '5000',
  'super-plus': '10000',
  unknown: '480',
};

/** `/devices/…/usb1/1-1/1-1.3` for port path `1-1.3`; `/devices/…/usb1` for root hub `usb1`. */
export function sysfsPathOf(portPath: string): string {
  const root = /^usb(\d+)$/.exec(portPath);
  if (root) return `${CONTROLLER_SYSFS}/${portPath}`;
  const match = /^(\d+)-(\d+(?:\.\d+)*)$/.exec(portPath);
  if (!match) throw new RangeError(`'${portPath}' is not a USB port path (BUS-P.P.P or usbN)`);
  const [, bus, chain] = match;
  const ports = chain.split('.');
  const dirs = ports.map((_, i) => `${bus}-${ports.slice(0, i + 1).join('.')}`);
  return `${CONTROLLER_SYSFS}/usb${bus}/${dirs.join('/')}`;
}

/** `bus/usb/001/005` (under /dev). */
export function devnodeOf(busNumber: number, address: number): string {
  return `bus/usb/${pad3(busNumber)}/${pad3(address)}`;
}

export interface SysfsDevice {
  /** Port path (`1-1.3`) or root hub name (`usb1`). */
  portPath: string;
  busNumber: number;
  address: number;
  speed: UsbSpeed;
  /** The sysfs `descriptors` bytes: device descriptor, then the whole configuration. */
  descriptors: Buffer;
  /** Cached string descriptors, as the kernel shows them in sysfs. */
  strings?: { manufacturer?: string; product?: string; serial?: string };
}

/** One device as a umockdev record (attach its ioctl handler before adding it: the add is announced at once). */
export function umockdevRecord(device: SysfsDevice): string {
  const d = fieldsOf(device.descriptors);
  const devnode = devnodeOf(device.busNumber, device.address);
  const bus = pad3(device.busNumber);
  const num = pad3(device.address);
  const root = device.portPath.startsWith('usb');
  const lines = [
    `P: ${sysfsPathOf(device.portPath)}`,
    `N: ${devnode}`,
    `E: DEVNAME=/dev/${devnode}`,
    'E: DEVTYPE=usb_device',
    'E: DRIVER=usb',
    `E: PRODUCT=${hex(d.vendorId)}/${hex(d.productId)}/${hex(d.bcdDevice)}`,
    `E: TYPE=${d.deviceClass}/0/0`,
    `E: BUSNUM=${bus}`,
    `E: DEVNUM=${num}`,
    'E: SUBSYSTEM=usb',
    // Attribute values end with a newline as the kernel writes them (libusb warns otherwise).
    ...attributes({
      busnum: String(device.busNumber),
      devnum: String(device.address),
      devpath: root ? '0' : device.portPath.slice(device.portPath.indexOf('-') + 1),
      idVendor: hex4(d.vendorId),
      idProduct: hex4(d.productId),
      bcdDevice: hex4(d.bcdDevice),
      bDeviceClass: hex2(d.deviceClass),
      bNumConfigurations: '1',
      bConfigurationValue: '1',
      bNumInterfaces: String(d.interfaceCount).padStart(2, ' '),
      bMaxPower: `${d.maxPowerMa}mA`,
      speed: SYSFS_SPEED[device.speed],
      version: ` ${(d.bcdUSB >> 8).toString(16)}.${(d.bcdUSB & 0xff).toString(16).padStart(2, '0')}`,
      manufacturer: device.strings?.manufacturer,
      product: device.strings?.product,
      serial: device.strings?.serial,
    }),
    `H: descriptors=${device.descriptors.toString('hex')}`,
  ];
  return `${lines.join('\n')}\n`;
}

/** A root hub (1d6b:0002 for USB 2.0, 1d6b:0003 for SuperSpeed). */
export function rootHubDevice(busNumber: number, speed: 'high' | 'super'): SysfsDevice {
  const superSpeed = speed === 'super';
  return {
    portPath: `usb${busNumber}`,
    busNumber,
    address: 1,
    speed,
    descriptors: encodeSysfsDescriptors({
      vendorId: 0x1d6b,
      productId: superSpeed ? 0x0003 : 0x0002,
      deviceClass: 0x09,
      bcdUSB: superSpeed ? 0x0300 : 0x0200,
      bcdDevice: 0x0601,
      maxPacketSize0: superSpeed ? 9 : 64,
      manufacturerIndex: 3,
      productIndex: 2,
      serialNumberIndex: 1,
      maxPowerMa: 0,
      interfaces: [
        {
          number: 0,
          interfaceClass: 0x09,
          interfaceSubClass: 0,
          interfaceProtocol: 0,
          // A real root hub has an interrupt status endpoint; the descriptor encoder writes bulk
          // endpoints only, and nothing opens a root hub here, so it shows none.
          alternates: [{ alternate: 0, endpoints: [] }],
        },
      ],
    }),
    strings: {
      manufacturer: 'Linux umockdev xhci-hcd',
      product: superSpeed ? 'xHCI Host Controller (SuperSpeed)' : 'xHCI Host Controller',
      serial: '0000:00:14.0',
    },
  };
}

interface DescriptorFields {
  vendorId: number;
  productId: number;
  bcdDevice: number;
  bcdUSB: number;
  deviceClass: number;
  interfaceCount: number;
  maxPowerMa: number;
}

/** What sysfs repeats from the descriptors as attributes (USB 2.0 §9.6.1, §9.6.3). */
function fieldsOf(descriptors: Buffer): DescriptorFields {
  if (descriptors.length < 18 + 9 || descriptors[0] !== 18 || descriptors[18] !== 9) {
    throw new RangeError('sysfs descriptors must hold a device descriptor and a configuration');
  }
  return {
    bcdUSB: descriptors.readUInt16LE(2),
    deviceClass: descriptors[4],
    vendorId: descriptors.readUInt16LE(8),
    productId: descriptors.readUInt16LE(10),
    bcdDevice: descriptors.readUInt16LE(12),
    interfaceCount: descriptors[18 + 4],
    maxPowerMa: descriptors[18 + 8] * 2,
  };
}

function attributes(values: Record<string, string | undefined>): string[] {
  return Object.entries(values)
    .filter((entry): entry is [string, string] => entry[1] !== undefined)
    .map(([name, value]) => `A: ${name}=${escapeAttribute(value)}\\n`);
}

/** umockdev unescapes A: values C-style (g_strcompress). */
function escapeAttribute(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

function pad3(n: number): string {
  return String(n).padStart(3, '0');
}

function hex(n: number): string {
  return n.toString(16);
}

function hex4(n: number): string {
  return n.toString(16).padStart(4, '0');
}

function hex2(n: number): string {
  return n.toString(16).padStart(2, '0');
}
