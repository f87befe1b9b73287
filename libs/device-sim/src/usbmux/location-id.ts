// usbmuxd's LocationID for a port path `BUS-P.P.P` (e.g. `1-1.4.2`). We use the macOS layout
// (bus in the top byte, then one nibble per hub port, left-aligned: 1-1.4.2 → 0x01142000) so the
// value is stable per physical port and the path can be read back from it in a hex dump.
// Linux usbmuxd reports (bus << 16 | device address) instead, which changes on every
// re-enumeration; a stable value is more useful to the bench.

const PORT_PATH = /^(\d+)-(\d+(?:\.\d+)*)$/;

export function locationIdOf(portPath: string): number {
  const match = PORT_PATH.exec(portPath);
  if (!match) return 0;
  const bus = Number(match[1]) & 0xff;
  const hops = match[2].split('.').map(Number).slice(0, 6);
  let nibbles = 0;
  for (let i = 0; i < 6; i++) nibbles = (nibbles << 4) | ((hops[i] ?? 0) & 0xf);
  return ((bus << 24) | nibbles) >>> 0;
}
