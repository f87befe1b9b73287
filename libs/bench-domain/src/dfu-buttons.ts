// How a technician puts an iPhone in DFU mode, by model family: the last rung of the escalation
// ladder asks a human for it. Families by ProductType major number: 8 and below have a Home
// button (iPhone 6s, SE 1st gen and older), 9 is the iPhone 7 (no Home button click, Volume
// Down instead), 10 and above (iPhone 8, X and later, SE 2nd gen onwards) use the
// Volume Up / Volume Down / Side sequence.
const HOME_BUTTON =
  'Hold Power + Home for 8 s, release Power and keep holding Home for 5 s (the screen stays black).';
const IPHONE_7 =
  'Hold Power + Volume Down for 8 s, release Power and keep holding Volume Down for 5 s (the screen stays black).';
const MODERN =
  'Press and release Volume Up, press and release Volume Down, hold Side until the screen goes black, then hold Side + Volume Down for 5 s, release Side and keep holding Volume Down for 10 s.';
const UNKNOWN = "Put the phone in DFU mode with its model's button sequence (the screen stays black).";

export function dfuButtonsFor(productType: string | undefined): string {
  const major = /^iPhone(\d+),\d+$/.exec(productType ?? '')?.[1];
  if (major === undefined) return UNKNOWN;
  const family = Number(major);
  if (family <= 8) return HOME_BUTTON;
  if (family === 9) return IPHONE_7;
  return MODERN;
}
