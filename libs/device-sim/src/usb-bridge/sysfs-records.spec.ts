// Sysfs paths and umockdev records for simulated devices.
import { createPhone } from '../phone/phone-factory';
import { SeededRandom } from '../time/random';
import { SimClock } from '../time/sim-clock';
import { IBootDevice } from '../usb/iboot-device';
import { encodeSysfsDescriptors } from '../usb/usb-descriptors';
import { devnodeOf, rootHubDevice, sysfsPathOf, umockdevRecord } from './sysfs-records';

describe('sysfs records', () => {
  it('places port paths under their hubs, root hubs under the controller', () => {
    expect(sysfsPathOf('1-1.3')).toBe('/devices/pci0000:00/0000:00:14.0/usb1/1-1/1-1.3');
    expect(sysfsPathOf('2-4.1.7')).toBe('/devices/pci0000:00/0000:00:14.0/usb2/2-4/2-4.1/2-4.1.7');
    expect(sysfsPathOf('usb3')).toBe('/devices/pci0000:00/0000:00:14.0/usb3');
    expect(() => sysfsPathOf('1.3')).toThrow(RangeError);
    expect(devnodeOf(1, 5)).toBe('bus/usb/001/005');
  });

  it('describes a recovery device from the model: ids, addresses, strings, console on interface 1 alt 1', () => {
    const phone = createPhone(
      { productType: 'iPhone10,1', stage: 'iboot', ecid: 0x1a2b3c4d5e6f70n },
      new SimClock(1000),
      new SeededRandom(1),
    );
    const device = new IBootDevice({ phone, verifyImage: () => ({ ok: false, reason: 'unused' }) });
    const descriptors = encodeSysfsDescriptors(device.descriptor);
    const record = umockdevRecord({
      portPath: '1-1.3',
      busNumber: 1,
      address: 9,
      speed: 'high',
      descriptors,
      strings: { serial: device.stringDescriptor(4) },
    });
    const lines = record.trim().split('\n');
    expect(lines.slice(0, 4)).toEqual([
      'P: /devices/pci0000:00/0000:00:14.0/usb1/1-1/1-1.3',
      'N: bus/usb/001/009',
      'E: DEVNAME=/dev/bus/usb/001/009',
      'E: DEVTYPE=usb_device',
    ]);
    expect(lines).toEqual(
      expect.arrayContaining([
        'E: PRODUCT=5ac/1281/100',
        'E: BUSNUM=001',
        'E: DEVNUM=009',
        'E: SUBSYSTEM=usb',
        'A: busnum=1\\n',
        'A: devnum=9\\n',
        'A: devpath=1.3\\n',
        'A: idVendor=05ac\\n',
        'A: idProduct=1281\\n',
        'A: speed=480\\n',
        'A: bNumInterfaces= 2\\n',
        `A: serial=${device.stringDescriptor(4)}\\n`,
        `H: descriptors=${descriptors.toString('hex')}`,
      ]),
    );
    // Interface 1, alternate 1, one endpoint: 0x81 (the fixture record put it on interface 0).
    expect(descriptors.toString('hex')).toContain('0904010101ffff0100070581');
  });

  it('makes USB 2.0 and SuperSpeed root hubs', () => {
    const record = umockdevRecord(rootHubDevice(3, 'super'));
    expect(record).toContain('P: /devices/pci0000:00/0000:00:14.0/usb3\n');
    expect(record).toContain('A: idProduct=0003\\n');
    expect(record).toContain('A: speed=5000\\n');
    expect(record).toContain('A: devpath=0\\n');
    expect(umockdevRecord(rootHubDevice(1, 'high'))).toContain('N: bus/usb/001/001\n');
  });
});
