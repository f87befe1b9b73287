// A phone in normal or restore mode as the USB bus sees it: an Apple device with the usbmux
// interface (class 0xFF/0xFE/0x02, restore-protocol.md §1.3) that usbmuxd owns. bench talks to
// it through usbmuxd (the simulator's endpoint), so on the bus it only shows its descriptors and
// strings; anything else stalls.
import { UsbTransportError } from '@bench/usb-transport';
import type { SimPhone } from '../phone/sim-phone';
import { answerGetDescriptor, usbStall } from './usb-descriptors';
import type { SimControlSetup, SimDeviceDescriptor, SimUsbFunction } from './usb-function';

/** What a real iPhone 5…15 shows in normal and in restore mode alike (usbmuxd issue 147). */
export const MUX_PRODUCT_ID = 0x12a8;

export class MuxUsbFunction implements SimUsbFunction {
  readonly descriptor: SimDeviceDescriptor = {
    vendorId: 0x05ac,
    productId: MUX_PRODUCT_ID,
    deviceClass: 0,
    bcdUSB: 0x0200,
    bcdDevice: 0x1001,
    maxPacketSize0: 64,
    manufacturerIndex: 1,
    productIndex: 2,
    serialNumberIndex: 3,
    maxPowerMa: 500,
    interfaces: [
      {
        number: 0,
        interfaceClass: 0xff,
        interfaceSubClass: 0xfe,
        interfaceProtocol: 0x02,
        alternates: [
          {
            alternate: 0,
            endpoints: [
              { address: 0x04, maxPacketSize: 512 },
              { address: 0x85, maxPacketSize: 512 },
            ],
          },
        ],
      },
    ],
  };
  private disposed = false;

  constructor(private readonly phone: SimPhone) {}

  stringDescriptor(index: number): string | undefined {
    if (index === 1) return 'Apple Inc.';
    if (index === 2) return 'iPhone';
    // The 24-character serial usbmuxd turns into the UDID by inserting the dash.
    if (index === 3) return this.phone.identity.udid.replace('-', '');
    return undefined;
  }

  async control(setup: SimControlSetup): Promise<Uint8Array> {
    if (this.disposed) throw new UsbTransportError('no-device', 'the device left the bus');
    const standard = answerGetDescriptor(this, setup);
    if (standard) return standard;
    throw usbStall(
      `request 0x${setup.bmRequestType.toString(16)}/${setup.bRequest} (usbmuxd owns this device)`,
    );
  }

  async bulkOut(endpoint: number): Promise<void> {
    throw usbStall(`bulk OUT 0x${endpoint.toString(16)} (usbmuxd owns this device)`);
  }

  async bulkIn(endpoint: number): Promise<Uint8Array> {
    throw usbStall(`bulk IN 0x${endpoint.toString(16)} (usbmuxd owns this device)`);
  }

  setConfiguration(): void {}

  setInterface(): void {}

  reset(): void {}

  dispose(): void {
    this.disposed = true;
  }
}
