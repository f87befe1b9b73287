// RestoreRequestRules as Apple's BuildManifests carry them (copied in shape from the iOS 13.5.1
// and 26.2.1 manifests under shared/fixtures/firmware), so a TSS request built from a synthetic
// IPSW exercises the same rule evaluation as a real one.
import type { PlistDict } from '@bench/protocols';

const rule = (actions: PlistDict, conditions: PlistDict): PlistDict => ({
  Actions: actions,
  Conditions: conditions,
});

/** Firmware payloads (LLB's tail, iBoot, DeviceTree, logos, KernelCache): raw production/security mode. */
export const RAW_MODE_RULES: PlistDict[] = [
  rule({ EPRO: false }, { ApRawProductionMode: false, ApRequiresImage4: true }),
  rule({ EPRO: true }, { ApRawProductionMode: true, ApRequiresImage4: true }),
  rule(
    { EPRO: false },
    { ApDemotionPolicyOverride: 'Demote', ApRawProductionMode: true, ApRequiresImage4: true },
  ),
  rule({ ESEC: false }, { ApRawSecurityMode: false, ApRequiresImage4: true }),
  rule({ ESEC: true }, { ApRawSecurityMode: true, ApRequiresImage4: true }),
];

/** iBEC and the restore-time components (ramdisk, restore kernel/device tree, trust caches, OS). */
export const CURRENT_MODE_RULES: PlistDict[] = [
  rule({ EPRO: false }, { ApCurrentProductionMode: false, ApRequiresImage4: true }),
  rule({ EPRO: true }, { ApCurrentProductionMode: true, ApRequiresImage4: true }),
  rule(
    { EPRO: false },
    {
      ApCurrentProductionMode: true,
      ApDemotionPolicyOverride: 'Demote',
      ApInRomDFU: true,
      ApRequiresImage4: true,
    },
  ),
  rule({ ESEC: false }, { ApRawSecurityMode: false, ApRequiresImage4: true }),
  rule({ ESEC: true }, { ApRawSecurityMode: true, ApRequiresImage4: true }),
];

/** iBSS: current mode plus the demotion flag. */
export const IBSS_RULES: PlistDict[] = [
  rule({ DPRO: true }, { ApDemotionPolicyOverride: 'Demote', ApRawProductionMode: true }),
  ...CURRENT_MODE_RULES,
];

/** LLB: raw mode plus the demotion flag. */
export const LLB_RULES: PlistDict[] = [
  rule({ DPRO: true }, { ApDemotionPolicyOverride: 'Demote', ApRawProductionMode: true }),
  ...RAW_MODE_RULES,
];

/** SEP and RestoreSEP. */
export const SEP_RULES: PlistDict[] = [
  rule({ ESEC: false }, { ApRawSecurityMode: false }),
  rule({ ESEC: true }, { ApRawSecurityMode: true }),
  rule(
    { DSEC: true, ESEC: false },
    { ApDemotionPolicyOverride: '', ApRawProductionMode: false, ApRawSecurityMode: true },
  ),
  rule(
    { DSEC: true, ESEC: false },
    { ApDemotionPolicyOverride: 'Demote', ApRawProductionMode: false, ApRawSecurityMode: true },
  ),
  rule({ EPRO: false }, { ApRawProductionMode: false }),
  rule({ EPRO: true }, { ApRawProductionMode: true }),
];
