// How the simulated restored decides whether what the host sent would boot: the root ticket,
// each component (KernelCache, DeviceTree, LLB and the NOR images), and the filesystem image
// streamed over ASR. The strategy is injected: our own engine is held to strict checks (tickets
// signed by the simulated TSS for this ECID, components stitched with that ticket); Debian's
// idevicerestore 1.0.0 in `-R -T` mode sends the -T file's bytes as the ticket and components
// un-personalized (idevicerestore-1.0.0-restore-mode.md §1.4, §5), which only a compatibility
// strategy accepts.
import { COMPONENT_TAGS, decodeIm4p, isImg4, parseImg4 } from '@bench/protocols';
import type { SimPhone } from '../phone/sim-phone';

export type Verdict = { ok: true } | { ok: false; reason: string };

export const ACCEPTED: Verdict = { ok: true };

export function rejected(reason: string): Verdict {
  return { ok: false, reason };
}

/** The iOS build a filesystem image installs (what the phone reports after the reboot). */
export interface InstalledBuild {
  productVersion: string;
  buildVersion: string;
}

/** Checks a filesystem image piecewise, at any offset (OOB reads and streamed chunks alike). */
export interface FilesystemVerifier {
  verifyRange(offset: number, bytes: Uint8Array): Verdict;
  /** The build the image installs, when the image says so (synthetic images do). */
  readonly build?: InstalledBuild;
}

export interface ComponentContext {
  phone: SimPhone;
  /** The RootTicket bytes the host sent earlier in this restore (empty when none yet). */
  rootTicket: Uint8Array;
}

export interface RestoreVerifier {
  /** Names the strategy in notes and device logs. */
  readonly name: string;
  rootTicket(ticket: Uint8Array, phone: SimPhone): Verdict;
  /** `component` is the BuildManifest name: KernelCache, DeviceTree, LLB, iBoot, … */
  component(component: string, image: Uint8Array, context: ComponentContext): Verdict;
  /**
   * A verifier for a filesystem image of `size` bytes, or undefined when this strategy cannot
   * check content (then only ASR's per-chunk SHA-1s guard the stream).
   */
  filesystem(size: number, phone: SimPhone): FilesystemVerifier | undefined;
}

/** Is `image` a well-formed IM4P (or IMG4) of the type tag this component carries? */
export function checkComponentShape(component: string, image: Uint8Array): Verdict {
  if (image.length === 0) return rejected(`${component} is empty`);
  let fourcc: string;
  try {
    fourcc = isImg4(image) ? parseImg4(image).im4p.fourcc : decodeIm4p(image).fourcc;
  } catch (error) {
    return rejected(`${component} is not an Image4 payload: ${(error as Error).message}`);
  }
  const expected = COMPONENT_TAGS[component];
  if (expected && fourcc !== expected)
    return rejected(`${component} carries type '${fourcc}', expected '${expected}'`);
  return ACCEPTED;
}

export interface CompatVerifierOptions {
  /** Content check for the filesystem (e.g. a synthetic OS image's verifier). */
  filesystem?: (size: number, phone: SimPhone) => FilesystemVerifier | undefined;
}

/**
 * idevicerestore 1.0.0 `-R -T` compatibility: any ticket bytes (even none), components accepted
 * un-personalized as long as they are Image4 payloads of the right type. The filesystem is still
 * checked when a content verifier is given.
 */
export function idevicerestoreCompatVerifier(options: CompatVerifierOptions = {}): RestoreVerifier {
  return {
    name: 'idevicerestore-compat',
    rootTicket: () => ACCEPTED,
    component: (component, image) => checkComponentShape(component, image),
    filesystem: (size, phone) => options.filesystem?.(size, phone),
  };
}
