// The command line bench gives idevicerestore for one attempt. Pure, so it is tested as data.
import { parseEcid, type RestoreBehavior } from '@bench/bench-domain';

export type IdevicerestoreFirmware = { ipswPath: string } | { latest: true };

export interface IdevicerestoreRequest {
  /** The target device; passed as `-i 0x…` so idevicerestore never picks another phone. */
  ecid: string;
  behavior: RestoreBehavior;
  /** A local IPSW (file or unpacked directory), or `--latest` (idevicerestore downloads it). */
  firmware: IdevicerestoreFirmware;
  /** Signing server URL (`-s URL`); only builds that have `--server` accept one. */
  tssUrl?: string;
  /** Cache directory for extracted filesystems and downloads (`-C DIR`). */
  cacheDir?: string;
  /** Allow a device that is already in restore mode (`-R`). */
  allowRestoreMode?: boolean;
  /** File sent as the AP ticket (`-T PATH`). */
  apTicketPath?: string;
}

/**
 * `-i ECID [-e] -y -P [-s URL] [-C DIR] [-R] [-T PATH] (PATH | --latest)`: non-interactive
 * (`-y`), with plain `progress: <step> <fraction>` lines (`-P`) for the parser. Without `-e`
 * idevicerestore performs an update restore.
 */
export function idevicerestoreArguments(request: IdevicerestoreRequest): string[] {
  const args = ['-i', `0x${parseEcid(request.ecid)}`];
  if (request.behavior === 'erase') args.push('-e');
  args.push('-y', '-P');
  if (request.tssUrl !== undefined) args.push('-s', request.tssUrl);
  if (request.cacheDir !== undefined) args.push('-C', request.cacheDir);
  if (request.allowRestoreMode) args.push('-R');
  if (request.apTicketPath !== undefined) args.push('-T', request.apTicketPath);
  if ('latest' in request.firmware) args.push('--latest');
  else args.push(request.firmware.ipswPath);
  return args;
}

/**
 * Whether this idevicerestore takes `-s URL`, judged from its `--help`: upstream added
 * `-s, --server URL` in 2023 (commit d291eb1); Debian's 1.0.0 has `-s, --cydia`, a flag that
 * would take the URL for the IPSW path.
 */
export function helpOffersSigningServer(helpText: string): boolean {
  return /--server\b/.test(helpText);
}
