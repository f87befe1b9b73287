// plist@4 ships no type declarations (bplist-parser and bplist-creator ship their own).
declare module 'plist' {
  type Value = string | number | bigint | boolean | Date | Uint8Array | Value[] | { [key: string]: Value };
  export function parse(xml: string): unknown;
  export function build(
    value: Value,
    options?: { pretty?: boolean; indent?: string; newline?: string },
  ): string;
}
