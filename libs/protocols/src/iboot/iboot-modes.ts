// Which boot-ROM / iBoot mode a USB product id means (restore-protocol.md §1.1). Matching is by
// vendor and product id only; nothing checks interface classes.

export const APPLE_USB_VENDOR_ID = 0x05ac;

/** The modes bench drives over raw USB; the names match bench-domain's DeviceMode. */
export type IBootMode = 'dfu' | 'recovery' | 'wtf' | 'port-dfu';

export const IBootProductId = {
  dfu: 0x1227,
  wtf: 0x1222,
  recovery1: 0x1280,
  /** The common recovery id; iBSS and iBEC re-enumerate with it too. */
  recovery2: 0x1281,
  recovery3: 0x1282,
  recovery4: 0x1283,
  portDfu: 0xf014,
} as const;

/** Every product id that `ibootModeOfProductId` knows. */
export const IBOOT_PRODUCT_IDS: readonly number[] = Object.values(IBootProductId);

export function ibootModeOfProductId(productId: number): IBootMode | undefined {
  switch (productId) {
    case IBootProductId.dfu:
      return 'dfu';
    case IBootProductId.wtf:
      return 'wtf';
    case IBootProductId.portDfu:
      return 'port-dfu';
    case IBootProductId.recovery1:
    case IBootProductId.recovery2:
    case IBootProductId.recovery3:
    case IBootProductId.recovery4:
      return 'recovery';
    default:
      return undefined;
  }
}

export function isIBootDevice(vendorId: number, productId: number): boolean {
  return vendorId === APPLE_USB_VENDOR_ID && ibootModeOfProductId(productId) !== undefined;
}

/** DFU, port DFU and WTF take DFU class requests; recovery takes vendor commands and bulk uploads. */
export function usesDfuRequests(mode: IBootMode): boolean {
  return mode !== 'recovery';
}

/**
 * libirecovery also claims interface 1 with alternate setting 1 at open time for recovery ids
 * above 0x1281.
 */
export function opensConsoleInterface(productId: number): boolean {
  return ibootModeOfProductId(productId) === 'recovery' && productId > IBootProductId.recovery2;
}
