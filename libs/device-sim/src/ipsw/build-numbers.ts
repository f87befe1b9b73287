// Apple build numbers and the `Ap,OSLongVersion` identity key carry the same information:
// 23C71 ↔ "23.3.71.0.0,0" (major, train letter as its position in the alphabet, build number),
// as the iOS 26.2.1 manifest shows. Synthetic manifests carry the long version, so the simulated
// TSS server can tell which build a request is for.

const BUILD = /^(\d{1,3})([A-Z])(\d{1,4})[a-z]?$/;

export function isBuildVersion(build: string): boolean {
  return BUILD.test(build);
}

export function osLongVersionOf(build: string): string {
  const match = BUILD.exec(build);
  if (!match) throw new RangeError(`'${build}' is not an Apple build number such as 22G100`);
  const train = match[2].charCodeAt(0) - 'A'.charCodeAt(0) + 1;
  return `${Number(match[1])}.${train}.${Number(match[3])}.0.0,0`;
}

export function buildOfOsLongVersion(longVersion: string): string | undefined {
  const match = /^(\d{1,3})\.(\d{1,2})\.(\d{1,4})\./.exec(longVersion);
  if (!match) return undefined;
  const train = Number(match[2]);
  if (train < 1 || train > 26) return undefined;
  return `${Number(match[1])}${String.fromCharCode('A'.charCodeAt(0) + train - 1)}${Number(match[3])}`;
}
