// Which Image4 type tag (fourcc) a BuildManifest component carries once personalized.
//
// RESTORE_TAG_RENAMES is the table of restore-protocol §6.2: these components reuse the file of
// another component (RestoreKernelCache ships the `krnl` kernelcache) and idevicerestore
// overwrites the tag in place when stitching. A manifest may also say it directly:
// `Manifest.<component>.Info.Img4PayloadType` (e.g. "rkrn"), which wins when present.
// COMPONENT_TAGS adds the tags that components carry in their own files (pymobiledevice3's table
// as the notes quote it); the simulator uses it to key ticket entries by component.

export const RESTORE_TAG_RENAMES: Readonly<Record<string, string>> = {
  RestoreKernelCache: 'rkrn',
  RestoreDeviceTree: 'rdtr',
  RestoreSEP: 'rsep',
  RestoreLogo: 'rlgo',
  RestoreTrustCache: 'rtsc',
  RestoreDCP: 'rdcp',
  'Ap,RestoreDCP2': 'rdc2',
  'Ap,RestoreTMU': 'rtmu',
  'Ap,RestoreCIO': 'rcio',
  'Ap,DCP2': 'dcp2',
  'Ap,RestoreSecureM3Firmware': 'rsm3',
  'Ap,RestoreSecurePageTableMonitor': 'rspt',
  'Ap,RestoreTrustedExecutionMonitor': 'rtrx',
  'Ap,RestorecL4': 'rxcl',
};

export const COMPONENT_TAGS: Readonly<Record<string, string>> = {
  ...RESTORE_TAG_RENAMES,
  iBSS: 'ibss',
  iBEC: 'ibec',
  LLB: 'illb',
  iBoot: 'ibot',
  KernelCache: 'krnl',
  DeviceTree: 'dtre',
  SEP: 'sepi',
  RestoreRamDisk: 'rdsk',
  StaticTrustCache: 'trst',
  SystemVolume: 'isys',
  'Ap,SystemVolumeCanonicalMetadata': 'msys',
  AppleLogo: 'logo',
  RecoveryMode: 'recm',
};

/**
 * The tag a component's IM4P must carry when personalized, or undefined when the file's own tag
 * is kept. `payloadType` is the manifest's `Info.Img4PayloadType`, when it has one.
 */
export function personalizedTypeTag(component: string, payloadType?: string): string | undefined {
  return payloadType ?? RESTORE_TAG_RENAMES[component];
}

/** The component a type tag stands for (first match in COMPONENT_TAGS), if known. */
export function componentForTypeTag(fourcc: string): string | undefined {
  return Object.entries(COMPONENT_TAGS).find(([, tag]) => tag === fourcc)?.[0];
}
