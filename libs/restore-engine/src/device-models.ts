// Chip and board ids → model, for phones met in DFU or recovery (where only the iSerialNumber
// speaks). The same pairs as libirecovery's device table and the real BuildManifests; the
// simulator's models are among them. A phone not listed is identified from the IPSW instead
// (the identity whose ApChipID/ApBoardID match).

export interface ChipModel {
  productType: string;
  hardwareModel: string;
}

const MODELS: Record<string, ChipModel> = {
  '8010:08': { productType: 'iPhone9,1', hardwareModel: 'd10ap' },
  '8010:0a': { productType: 'iPhone9,2', hardwareModel: 'd11ap' },
  '8010:0c': { productType: 'iPhone9,3', hardwareModel: 'd101ap' },
  '8010:0e': { productType: 'iPhone9,4', hardwareModel: 'd111ap' },
  '8015:02': { productType: 'iPhone10,1', hardwareModel: 'd20ap' },
  '8015:04': { productType: 'iPhone10,2', hardwareModel: 'd21ap' },
  '8015:06': { productType: 'iPhone10,3', hardwareModel: 'd22ap' },
  '8015:0a': { productType: 'iPhone10,4', hardwareModel: 'd201ap' },
  '8015:0c': { productType: 'iPhone10,5', hardwareModel: 'd211ap' },
  '8015:0e': { productType: 'iPhone10,6', hardwareModel: 'd221ap' },
  '8101:0c': { productType: 'iPhone13,2', hardwareModel: 'd53gap' },
  '8101:0e': { productType: 'iPhone13,3', hardwareModel: 'd53pap' },
  '8120:08': { productType: 'iPhone15,4', hardwareModel: 'd37ap' },
};

export function modelForChip(cpid: number | undefined, bdid: number | undefined): ChipModel | undefined {
  if (cpid === undefined || bdid === undefined) return undefined;
  return MODELS[`${cpid.toString(16)}:${bdid.toString(16).padStart(2, '0')}`];
}
