// `bench firmware inspect <ipsw|BuildManifest.plist>`: which build identity bench would restore
// for a product (Variant, DeviceClass, RestoreBehavior, component paths), by the same selection
// the restore engine uses.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import {
  IpswArchive,
  checkIdentityMembers,
  hardwareModelFor,
  parseBuildManifest,
  selectBuildIdentity,
  supportedModels,
  type BuildIdentity,
  type BuildManifest,
  type RestoreKind,
} from '@bench/firmware';
import { firmwareAction } from './firmware-errors';

export interface InspectOptions {
  product?: string;
  update?: boolean;
  json?: boolean;
}

export interface IdentitySelection {
  productType: string;
  hardwareModel: string;
  behavior: RestoreKind;
  variant?: string;
  deviceClass: string;
  restoreBehavior?: string;
  apChipId: string;
  apBoardId: string;
  components: Record<string, string>;
  /** Only for an IPSW: component paths the zip lacks. */
  missing?: string[];
}

export function inspectCommand(
  file: string,
  options: InspectOptions,
  out: NodeJS.WritableStream = process.stdout,
  err: NodeJS.WritableStream = process.stderr,
): Promise<number> {
  return firmwareAction(async () => {
    const { manifest, hasMember } = await loadManifest(file);
    const behavior: RestoreKind = options.update ? 'update' : 'erase';
    const products = options.product ? [options.product] : manifest.supportedProductTypes;
    const selections = products.map((productType) => select(manifest, productType, behavior, hasMember));
    if (options.json) {
      out.write(
        `${JSON.stringify(
          {
            file: path.resolve(file),
            productVersion: manifest.productVersion,
            productBuildVersion: manifest.productBuildVersion,
            supportedProductTypes: manifest.supportedProductTypes,
            selections,
          },
          null,
          2,
        )}\n`,
      );
    } else {
      out.write(formatText(file, manifest, selections));
    }
    return selections.some((s) => (s.missing?.length ?? 0) > 0) ? 1 : 0;
  }, err);
}

async function loadManifest(
  file: string,
): Promise<{ manifest: BuildManifest; hasMember?: (name: string) => boolean }> {
  if (file.toLowerCase().endsWith('.plist'))
    return { manifest: parseBuildManifest(await readFile(file), path.basename(file)) };
  const archive = await IpswArchive.open(file);
  try {
    const manifest = await archive.readBuildManifest();
    const members = new Set(archive.members().map((m) => m.name));
    return { manifest, hasMember: (name) => members.has(name) };
  } finally {
    await archive.close();
  }
}

function select(
  manifest: BuildManifest,
  productType: string,
  behavior: RestoreKind,
  hasMember?: (name: string) => boolean,
): IdentitySelection {
  const hardwareModel = hardwareModelFor(manifest, productType);
  const identity = selectBuildIdentity(manifest, { productType, hardwareModel, behavior });
  return {
    productType,
    hardwareModel,
    behavior,
    variant: identity.info.variant,
    deviceClass: identity.info.deviceClass,
    restoreBehavior: identity.info.restoreBehavior,
    apChipId: hex(identity.apChipId, 4),
    apBoardId: hex(identity.apBoardId, 2),
    components: componentPaths(identity),
    missing: hasMember ? missingMembers(identity, hasMember) : undefined,
  };
}

function componentPaths(identity: BuildIdentity): Record<string, string> {
  return Object.fromEntries(
    Object.values(identity.components)
      .filter((c) => c.path !== undefined)
      .map((c) => [c.name, c.path as string]),
  );
}

function missingMembers(identity: BuildIdentity, hasMember: (name: string) => boolean): string[] {
  try {
    checkIdentityMembers(identity, hasMember);
    return [];
  } catch {
    return Object.values(identity.components).flatMap((c) => (c.path && !hasMember(c.path) ? [c.path] : []));
  }
}

function formatText(file: string, manifest: BuildManifest, selections: IdentitySelection[]): string {
  const lines = [
    `${path.basename(file)}: iOS ${manifest.productVersion} (${manifest.productBuildVersion})`,
    `supports: ${supportedModels(manifest).join(', ')}`,
  ];
  for (const s of selections) {
    lines.push(
      '',
      `${s.productType} (${s.hardwareModel}), ${s.behavior}:`,
      `  Variant          ${s.variant ?? '(none)'}`,
      `  DeviceClass      ${s.deviceClass}`,
      `  RestoreBehavior  ${s.restoreBehavior ?? '(none)'}`,
      `  ApChipID         ${s.apChipId}`,
      `  ApBoardID        ${s.apBoardId}`,
      '  Components:',
    );
    const width = Math.max(...Object.keys(s.components).map((name) => name.length));
    for (const [name, member] of Object.entries(s.components).sort(([a], [b]) => a.localeCompare(b))) {
      lines.push(`    ${name.padEnd(width)}  ${member}`);
    }
    if (s.missing?.length) lines.push(`  MISSING from the IPSW: ${s.missing.join(', ')}`);
  }
  return `${lines.join('\n')}\n`;
}

function hex(value: number, digits: number): string {
  return `0x${value.toString(16).toUpperCase().padStart(digits, '0')}`;
}
