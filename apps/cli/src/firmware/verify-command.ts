// `bench firmware verify <ipsw> [--sha1 X | --sha256 X]`: the file's checksum when given, every
// member's CRC, the manifest, and every component path of every identity.
import { FirmwareInvalidError } from '@bench/bench-domain';
import { IpswArchive, checkIdentityMembers, hashFile } from '@bench/firmware';
import { firmwareAction } from './firmware-errors';

export interface VerifyOptions {
  sha1?: string;
  sha256?: string;
}

export function verifyCommand(
  file: string,
  options: VerifyOptions,
  out: NodeJS.WritableStream = process.stdout,
  err: NodeJS.WritableStream = process.stderr,
): Promise<number> {
  return firmwareAction(async () => {
    if (options.sha1 || options.sha256) {
      const digests = await hashFile(file);
      if (options.sha1 && digests.sha1 !== options.sha1.toLowerCase()) {
        throw new FirmwareInvalidError(
          `${file}: SHA-1 is ${digests.sha1}, expected ${options.sha1.toLowerCase()}`,
        );
      }
      if (options.sha256 && digests.sha256 !== options.sha256.toLowerCase()) {
        throw new FirmwareInvalidError(
          `${file}: SHA-256 is ${digests.sha256}, expected ${options.sha256.toLowerCase()}`,
        );
      }
      out.write(`checksum ok (${options.sha256 ? `SHA-256 ${digests.sha256}` : `SHA-1 ${digests.sha1}`})\n`);
    }
    const archive = await IpswArchive.open(file);
    try {
      const members = archive.members();
      await archive.verify();
      out.write(`${members.length} members, CRC ok\n`);
      const manifest = await archive.readBuildManifest();
      for (const identity of manifest.identities) checkIdentityMembers(identity, (name) => archive.has(name));
      out.write(
        `iOS ${manifest.productVersion} (${manifest.productBuildVersion}) for ${manifest.supportedProductTypes.join(', ')}: ` +
          `${manifest.identities.length} identities, all components present\n`,
      );
      return 0;
    } finally {
      await archive.close();
    }
  }, err);
}
