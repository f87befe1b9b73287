// Component lookups on a chosen identity: where a component lives in the IPSW, and whether every
// path the identity names is really there (idevicerestore's "Checking IPSW for required
// components…" step, §1.5 of the 1.0.0 notes).
import { FirmwareInvalidError } from '@bench/bench-domain';
import type { BuildIdentity, ManifestComponent } from './build-manifest';

export function requireComponent(identity: BuildIdentity, name: string): ManifestComponent {
  const component = identity.components[name];
  if (!component) {
    throw new FirmwareInvalidError(
      `build identity '${identity.info.variant ?? identity.index}' for ${identity.info.deviceClass} has no ${name} component`,
      { detail: name },
    );
  }
  return component;
}

/** The IPSW member holding a component (`Manifest.<name>.Info.Path`). */
export function componentPath(identity: BuildIdentity, name: string): string {
  const path = requireComponent(identity, name).path;
  if (!path) {
    throw new FirmwareInvalidError(`component ${name} of ${identity.info.deviceClass} has no Info.Path`, {
      detail: name,
    });
  }
  return path;
}

/** Every distinct member path the identity names, in manifest order. */
export function identityPaths(identity: BuildIdentity): string[] {
  return [...new Set(Object.values(identity.components).flatMap((c) => (c.path ? [c.path] : [])))];
}

/** Throws a FirmwareInvalidError listing every component whose path the IPSW lacks. */
export function checkIdentityMembers(identity: BuildIdentity, hasMember: (path: string) => boolean): void {
  const missing = Object.values(identity.components).filter(
    (c) => c.path !== undefined && !hasMember(c.path),
  );
  if (missing.length > 0) {
    throw new FirmwareInvalidError(
      `the IPSW lacks ${missing.length} component(s) of ${identity.info.deviceClass} '${identity.info.variant ?? ''}': ${missing
        .map((c) => `${c.name} (${c.path})`)
        .join(', ')}`,
      { detail: missing.map((c) => c.path).join(', ') },
    );
  }
}
