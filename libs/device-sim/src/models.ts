// The phones the simulator can be. Identity values mirror Apple's (CPID/BDID per board, the
// DeviceClass in the real BuildManifests under ../shared/fixtures/firmware) so synthetic IPSWs
// and real manifests select identities the same way.

export interface SimModel {
  productType: string;
  /** Board config, lower case, as BuildManifest `Info.DeviceClass` (e.g. `d20ap`). */
  hardwareModel: string;
  marketingName: string;
  cpid: number;
  bdid: number;
  /** USB-C phones (iPhone 15 and later) have a port-DFU controller and different buttons. */
  usbC: boolean;
  /** How a technician puts this model in DFU (shown by `attention`). */
  dfuButtons: string;
  /** Whether Debian's idevicerestore 1.0.0 knows this board (its device table ends in 2020). */
  knownToIdevicerestore100: boolean;
}

const DFU_IPHONE7 =
  'Hold Power + Volume Down for 8 s, release Power and keep holding Volume Down for 5 s (screen stays black).';
const DFU_MODERN =
  'Press and release Volume Up, press and release Volume Down, hold Side until the screen goes black, then hold Side + Volume Down for 5 s, release Side and keep holding Volume Down for 10 s.';

export const SIM_MODELS: readonly SimModel[] = [
  {
    productType: 'iPhone9,1',
    hardwareModel: 'd10ap',
    marketingName: 'iPhone 7',
    cpid: 0x8010,
    bdid: 0x08,
    usbC: false,
    dfuButtons: DFU_IPHONE7,
    knownToIdevicerestore100: true,
  },
  {
    productType: 'iPhone10,1',
    hardwareModel: 'd20ap',
    marketingName: 'iPhone 8',
    cpid: 0x8015,
    bdid: 0x02,
    usbC: false,
    dfuButtons: DFU_MODERN,
    knownToIdevicerestore100: true,
  },
  {
    productType: 'iPhone13,2',
    hardwareModel: 'd53gap',
    marketingName: 'iPhone 12',
    cpid: 0x8101,
    bdid: 0x0c,
    usbC: false,
    dfuButtons: DFU_MODERN,
    knownToIdevicerestore100: false,
  },
  {
    productType: 'iPhone15,4',
    hardwareModel: 'd37ap',
    marketingName: 'iPhone 15',
    cpid: 0x8120,
    bdid: 0x08,
    usbC: true,
    dfuButtons: DFU_MODERN,
    knownToIdevicerestore100: false,
  },
];

export function findModel(productType: string): SimModel {
  const model = SIM_MODELS.find((m) => m.productType === productType);
  if (!model) {
    throw new RangeError(
      `the simulator has no model ${productType}; known: ${SIM_MODELS.map((m) => m.productType).join(', ')}`,
    );
  }
  return model;
}
