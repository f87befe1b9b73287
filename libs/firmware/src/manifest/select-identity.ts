// Choosing the build identity for a device (restore-protocol §7.3, the rules idevicerestore uses):
// DeviceClass equals the hardware model case-insensitively; an erase takes the
// "… Erase Install (IPSW)" variant, an update "… Upgrade Install (IPSW)" and falls back to the
// model's first identity; the exact Customer variant wins over a substring match; variants
// containing "Research" are never chosen by these rules; a variant the user names must match
// exactly. RestoreBehavior is not consulted when Variants exist: iOS 26 manifests say
// `RestoreBehavior = Erase` on their Upgrade identities too.
import type { BuildIdentity, BuildManifest } from './build-manifest';
import { IPHONE_HARDWARE_MODELS } from './device-table';
import { BuildIdentityNotFoundError } from '../errors';

export type RestoreKind = 'erase' | 'update';

export interface IdentityQuery {
  /** e.g. `iPhone10,1`; checked against SupportedProductTypes when given. */
  productType?: string;
  /** The device's hardware model / BuildManifest DeviceClass, e.g. `d20ap`. */
  hardwareModel: string;
  /** Cross-checked against ApChipID / ApBoardID when given. */
  chipId?: number;
  boardId?: number;
  behavior: RestoreKind;
  /** A user-chosen Variant: must match exactly. */
  variant?: string;
}

const VARIANT_SUFFIX: Record<RestoreKind, string> = {
  erase: 'Erase Install (IPSW)',
  update: 'Upgrade Install (IPSW)',
};

export function selectBuildIdentity(manifest: BuildManifest, query: IdentityQuery): BuildIdentity {
  const model = query.hardwareModel.toLowerCase();
  const label = query.productType ? `${query.productType} (${model})` : model;
  if (query.productType && !manifest.supportedProductTypes.includes(query.productType)) {
    throw notFound(manifest, query, `${describeBuild(manifest)} does not support ${label}`);
  }
  const forModel = manifest.identities.filter(
    (identity) =>
      identity.info.deviceClass.toLowerCase() === model &&
      (query.chipId === undefined || identity.apChipId === query.chipId) &&
      (query.boardId === undefined || identity.apBoardId === query.boardId),
  );
  if (forModel.length === 0) {
    throw notFound(
      manifest,
      query,
      `${describeBuild(manifest)} has no build identity for ${label}${chipBoard(query)}`,
    );
  }
  if (query.variant !== undefined) {
    const exact = forModel.find((identity) => identity.info.variant === query.variant);
    if (exact) return exact;
    const variants = forModel.map((identity) => identity.info.variant ?? '(none)').join('; ');
    throw notFound(
      manifest,
      query,
      `${describeBuild(manifest)} has no variant '${query.variant}' for ${label}; it has: ${variants}`,
    );
  }
  const chosen = byVariant(forModel, query.behavior);
  if (chosen) return chosen;
  throw notFound(
    manifest,
    query,
    `${describeBuild(manifest)} has no ${query.behavior} identity for ${label}; variants: ${forModel
      .map((identity) => identity.info.variant ?? '(none)')
      .join('; ')}`,
  );
}

function byVariant(forModel: BuildIdentity[], behavior: RestoreKind): BuildIdentity | undefined {
  const eligible = forModel.filter((identity) => !/research/i.test(identity.info.variant ?? ''));
  const suffix = VARIANT_SUFFIX[behavior];
  const exact = eligible.find((identity) => identity.info.variant === `Customer ${suffix}`);
  if (exact) return exact;
  const partial = eligible.find((identity) => identity.info.variant?.includes(suffix));
  if (partial) return partial;
  // Manifests without Variants (very old builds) only say RestoreBehavior.
  const wantedBehavior = behavior === 'erase' ? 'Erase' : 'Update';
  const byBehavior = eligible.find(
    (identity) => identity.info.variant === undefined && identity.info.restoreBehavior === wantedBehavior,
  );
  if (byBehavior) return byBehavior;
  return behavior === 'update' ? eligible[0] : undefined;
}

/**
 * The hardware model for a product type in this manifest: from identities carrying
 * `Ap,ProductType` when the manifest has them, else from the iPhone table. Throws the same typed
 * error as selection when the IPSW does not support the product.
 */
export function hardwareModelFor(manifest: BuildManifest, productType: string): string {
  if (!manifest.supportedProductTypes.includes(productType)) {
    throw notFound(
      manifest,
      { productType, hardwareModel: '?', behavior: 'erase' },
      `${describeBuild(manifest)} does not support ${productType}`,
    );
  }
  const tagged = manifest.identities.find((identity) => identity.productType === productType);
  const model = tagged?.info.deviceClass.toLowerCase() ?? IPHONE_HARDWARE_MODELS[productType];
  if (model === undefined) {
    throw notFound(
      manifest,
      { productType, hardwareModel: '?', behavior: 'erase' },
      `${describeBuild(manifest)} lists ${productType} but bench does not know its hardware model; pass it explicitly`,
    );
  }
  return model;
}

/** "iPhone9,1 (d10ap)" for every supported product type (device classes when unknown). */
export function supportedModels(manifest: BuildManifest): string[] {
  const classes = new Set(manifest.identities.map((identity) => identity.info.deviceClass.toLowerCase()));
  const described = manifest.supportedProductTypes.map((productType) => {
    const model =
      manifest.identities
        .find((identity) => identity.productType === productType)
        ?.info.deviceClass.toLowerCase() ?? IPHONE_HARDWARE_MODELS[productType];
    if (model) classes.delete(model);
    return model ? `${productType} (${model})` : productType;
  });
  return [...described, ...[...classes].map((model) => `(${model})`)];
}

function notFound(manifest: BuildManifest, query: IdentityQuery, reason: string): BuildIdentityNotFoundError {
  const supported = supportedModels(manifest);
  return new BuildIdentityNotFoundError(
    `${reason}. This IPSW supports: ${supported.join(', ')}`,
    query.productType,
    query.hardwareModel,
    supported,
    { detail: `${manifest.productVersion} ${manifest.productBuildVersion}` },
  );
}

function describeBuild(manifest: BuildManifest): string {
  return `iOS ${manifest.productVersion} (${manifest.productBuildVersion})`;
}

function chipBoard(query: IdentityQuery): string {
  const parts = [
    query.chipId === undefined ? '' : `CPID 0x${query.chipId.toString(16)}`,
    query.boardId === undefined ? '' : `BDID 0x${query.boardId.toString(16)}`,
  ].filter(Boolean);
  return parts.length ? ` with ${parts.join(', ')}` : '';
}
