// What the control API tells a client in another process about the simulated bench and its bus
// (GET /bench, GET /usb/events). The schemas validate what comes over the wire.
import { z } from 'zod';

const UsbDeviceInfoSchema = z.object({
  id: z.string(),
  portPath: z.string(),
  busNumber: z.number().int(),
  address: z.number().int(),
  vendorId: z.number().int(),
  productId: z.number().int(),
  deviceClass: z.number().int(),
  speed: z.enum(['low', 'full', 'high', 'super', 'super-plus', 'unknown']),
  manufacturerIndex: z.number().int(),
  productIndex: z.number().int(),
  serialNumberIndex: z.number().int(),
});

export const RemoteUsbEventSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('snapshot'), devices: z.array(UsbDeviceInfoSchema) }),
  z.object({ type: z.literal('attach'), device: UsbDeviceInfoSchema }),
  z.object({ type: z.literal('detach'), device: UsbDeviceInfoSchema }),
]);

export type RemoteUsbEvent = z.infer<typeof RemoteUsbEventSchema>;

export const RemoteSimBenchInfoSchema = z.object({
  speed: z.number().positive(),
  /** The value for `USBMUXD_SOCKET_ADDRESS`. */
  usbmuxdSocketAddress: z.string(),
  tssUrl: z.string(),
  /** The synthetic IPSW every simulated model restores to (a local file of the simulator's host). */
  ipswPath: z.string(),
  ports: z.array(z.string()),
});

export type RemoteSimBenchInfo = z.infer<typeof RemoteSimBenchInfoSchema>;
