// Filesystem verification against a synthetic IPSW's OS image: the image describes itself in
// its first 512 bytes (seed, size, label), and every other byte follows from that header, so
// restored can check any range ASR hands it — OOB reads and streamed chunks alike — without the
// file. The label the IPSW builder writes ends in "<ProductVersion> <BuildVersion>", which is
// how the phone learns what it will run after the reboot.
import { SYNTHETIC_OS_HEADER_SIZE, SyntheticOsImage } from '../ipsw/synthetic-os-image';
import {
  ACCEPTED,
  rejected,
  type FilesystemVerifier,
  type InstalledBuild,
  type Verdict,
} from './restore-verifier';

const VERSION_AND_BUILD = /(\d+(?:\.\d+){1,2}) (\d{2}[A-Z]\d{1,4}[a-z]?)$/;

export class SyntheticOsVerifier implements FilesystemVerifier {
  private image?: SyntheticOsImage;

  /** `expected`, when given, pins the image (size and seed) instead of trusting the header. */
  constructor(
    private readonly announcedSize: number,
    private readonly expected?: SyntheticOsImage,
  ) {
    this.image = expected;
  }

  get build(): InstalledBuild | undefined {
    const match = this.image ? VERSION_AND_BUILD.exec(this.image.label) : null;
    return match ? { productVersion: match[1], buildVersion: match[2] } : undefined;
  }

  verifyRange(offset: number, bytes: Uint8Array): Verdict {
    if (!this.image) {
      if (offset !== 0 || bytes.length < SYNTHETIC_OS_HEADER_SIZE) {
        return rejected('the image header (its first 512 bytes) has not been seen yet');
      }
      try {
        this.image = SyntheticOsImage.fromHeader(bytes);
      } catch (error) {
        return rejected((error as Error).message);
      }
    }
    if (this.image.size !== this.announcedSize) {
      return rejected(`the image is ${this.image.size} bytes but the host announced ${this.announcedSize}`);
    }
    if (
      this.expected &&
      offset === 0 &&
      !this.expected.header.equals(Buffer.from(bytes.subarray(0, SYNTHETIC_OS_HEADER_SIZE)))
    ) {
      return rejected('this is not the expected OS image (header differs)');
    }
    const at = this.image.firstMismatch(offset, bytes);
    return at === -1 ? ACCEPTED : rejected(`byte ${at} differs from the image`);
  }
}

/** For RestoreVerifier.filesystem: checks the streamed image against its own header. */
export function syntheticOsFilesystem(expected?: SyntheticOsImage): (size: number) => FilesystemVerifier {
  return (size) => new SyntheticOsVerifier(size, expected);
}
