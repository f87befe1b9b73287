// Reads hub descriptors through libusb (the `usb` package), as uhubctl does, to tell whether a
// hub can switch each port's power. Needs permission to open the hub (root or a udev rule).
import type { Device } from 'usb';
import { requireUsbPackage } from '../libusb/usb-module';
import { HUB_DESCRIPTOR_REQUEST, parseHubDescriptor, type HubDescriptor } from './hub-descriptor';

export interface HubReport {
  portPath: string;
  descriptor?: HubDescriptor;
  error?: string;
}

const HUB_CLASS = 0x09;

export function portPathOf(device: Device): string {
  const ports = device.portNumbers ?? [];
  return ports.length ? `${device.busNumber}-${ports.join('.')}` : `usb${device.busNumber}`;
}

export async function inspectHubs(): Promise<HubReport[]> {
  const hubs = requireUsbPackage()
    .getDeviceList()
    .filter((d) => d.deviceDescriptor.bDeviceClass === HUB_CLASS);
  const reports: HubReport[] = [];
  for (const hub of hubs) {
    const portPath = portPathOf(hub);
    try {
      hub.open(false);
      const type =
        hub.deviceDescriptor.bcdUSB >= 0x0300
          ? HUB_DESCRIPTOR_REQUEST.usb3Type
          : HUB_DESCRIPTOR_REQUEST.usb2Type;
      const data = await new Promise<Buffer>((resolve, reject) => {
        hub.controlTransfer(
          HUB_DESCRIPTOR_REQUEST.bmRequestType,
          HUB_DESCRIPTOR_REQUEST.bRequest,
          type << 8,
          0,
          71,
          (error, buffer) => (error ? reject(error) : resolve(buffer as Buffer)),
        );
      });
      reports.push({ portPath, descriptor: parseHubDescriptor(data) });
    } catch (error) {
      reports.push({ portPath, error: (error as Error).message });
    } finally {
      try {
        hub.close();
      } catch {
        // was not open
      }
    }
  }
  return reports;
}
