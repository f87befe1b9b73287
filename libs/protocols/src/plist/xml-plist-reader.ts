// A fast reader for the XML plists peers actually send (usbmuxd, lockdownd, restored, ASR, TSS,
// BuildManifest.plist): an optional <?xml?> declaration and <!DOCTYPE>, one <plist> holding dict,
// array, key, string, integer, real, date, data, true and false, and text with the five XML
// entities and character references. plist@4 first builds an xmldom DOM and is 10–20× slower:
// a usbmuxd device list of 64 phones took 15 ms and a 460 KB BuildManifest 200+ ms, each one
// synchronous block on the agent's event loop that every port waits behind.
//
// Anything else (comments, CDATA, processing instructions or stray text inside, attributes on
// any element but <plist>, <null/>, carriage returns, other entities, malformed or unusual
// markup, shapes plist@4 rejects or reads oddly) is NOT_HANDLED, and the caller parses the text
// with plist@4 as before: values and errors stay exactly those of plist@4. It returns what
// plist@4 returns (plain objects and arrays, strings, numbers, booleans, Dates, Uint8Arrays).

export const NOT_HANDLED: unique symbol = Symbol('xml plist not handled');

export type XmlPlistValue =
  string | number | boolean | Date | Uint8Array | XmlPlistValue[] | { [key: string]: XmlPlistValue };

interface DictFrame {
  kind: 'dict';
  value: Record<string, XmlPlistValue>;
  /** A key read whose value has not come yet. */
  key?: string;
}

interface ArrayFrame {
  kind: 'array';
  value: XmlPlistValue[];
}

const PLIST_OPEN = /<plist(?:[ \t\n]+[A-Za-z_:][-A-Za-z0-9_:.]*[ \t\n]*=[ \t\n]*"[^"<&]*")*[ \t\n]*>/y;
const BASE64 = /^[A-Za-z0-9+/]*$/;
const SPACE = /\s+/g;
const LT = 60; // <
const SLASH = 47; // /
const GT = 62; // >

/** The document's value, or NOT_HANDLED when plist@4 must read it. */
export function readXmlPlist(text: string): XmlPlistValue | typeof NOT_HANDLED {
  if (text.includes('\r') || text.charCodeAt(0) === 0xfeff) return NOT_HANDLED;
  let pos = skipSpace(text, 0);
  if (text.startsWith('<?xml', pos)) {
    const end = text.indexOf('?>', pos);
    if (end < 0) return NOT_HANDLED;
    pos = skipSpace(text, end + 2);
  }
  if (text.startsWith('<!DOCTYPE', pos)) {
    const end = text.indexOf('>', pos);
    if (end < 0 || text.lastIndexOf('[', end) > pos) return NOT_HANDLED;
    pos = skipSpace(text, end + 1);
  }
  PLIST_OPEN.lastIndex = pos;
  if (!PLIST_OPEN.test(text)) return NOT_HANDLED;
  pos = PLIST_OPEN.lastIndex;

  const stack: Array<DictFrame | ArrayFrame> = [];
  let result: XmlPlistValue | undefined;
  /** Puts a finished value where it belongs; false when plist@4 would read it differently. */
  const add = (value: XmlPlistValue): boolean => {
    const top = stack[stack.length - 1];
    if (!top) {
      if (result !== undefined) return false; // several values: plist@4 returns them as an array
      result = value;
    } else if (top.kind === 'array') {
      top.value.push(value);
    } else {
      if (top.key === undefined) return false; // a value where a key belongs
      top.value[top.key] = value;
      top.key = undefined;
    }
    return true;
  };

  for (;;) {
    pos = skipSpace(text, pos);
    if (text.charCodeAt(pos) !== LT) return NOT_HANDLED;
    if (text.charCodeAt(pos + 1) === SLASH) {
      const end = text.indexOf('>', pos);
      if (end < 0) return NOT_HANDLED;
      const name = text.slice(pos + 2, end);
      pos = end + 1;
      const frame = stack.pop();
      if (!frame) {
        if (name !== 'plist' || result === undefined) return NOT_HANDLED;
        return skipSpace(text, pos) === text.length ? result : NOT_HANDLED;
      }
      if (name !== frame.kind) return NOT_HANDLED;
      if (frame.kind === 'dict' && frame.key !== undefined) frame.value[frame.key] = '';
      if (!add(frame.value)) return NOT_HANDLED;
      continue;
    }
    let i = pos + 1;
    for (let c = text.charCodeAt(i); c >= 0x61 && c <= 0x7a; c = text.charCodeAt(++i));
    const name = text.slice(pos + 1, i);
    let empty: boolean;
    if (text.charCodeAt(i) === GT) {
      empty = false;
      pos = i + 1;
    } else if (text.charCodeAt(i) === SLASH && text.charCodeAt(i + 1) === GT) {
      empty = true;
      pos = i + 2;
    } else {
      return NOT_HANDLED;
    }

    let value: XmlPlistValue;
    switch (name) {
      case 'dict':
      case 'array': {
        if (empty) {
          value = name === 'dict' ? {} : [];
          break;
        }
        stack.push(name === 'dict' ? { kind: 'dict', value: {} } : { kind: 'array', value: [] });
        continue;
      }
      case 'key': {
        const top = stack[stack.length - 1];
        if (top?.kind !== 'dict' || top.key !== undefined) return NOT_HANDLED;
        let key = '';
        if (!empty) {
          const end = closing(text, pos, name);
          if (end < 0) return NOT_HANDLED;
          const decoded = decodeText(text.slice(pos, end));
          if (decoded === undefined || decoded === '__proto__') return NOT_HANDLED;
          key = decoded;
          pos = end + name.length + 3;
        }
        top.key = key;
        continue;
      }
      case 'string': {
        if (empty) {
          value = '';
          break;
        }
        const end = closing(text, pos, name);
        if (end < 0) return NOT_HANDLED;
        const decoded = decodeText(text.slice(pos, end));
        if (decoded === undefined) return NOT_HANDLED;
        value = decoded;
        pos = end + name.length + 3;
        break;
      }
      case 'integer':
      case 'real':
      case 'date':
      case 'data': {
        let raw = '';
        if (!empty) {
          const end = closing(text, pos, name);
          if (end < 0) return NOT_HANDLED;
          raw = text.slice(pos, end);
          pos = end + name.length + 3;
          if (raw.includes('&')) return NOT_HANDLED;
        }
        if (name === 'data') {
          const bytes = decodeBase64(raw.replace(SPACE, ''));
          if (!bytes) return NOT_HANDLED;
          value = bytes;
          break;
        }
        if (raw === '') return NOT_HANDLED; // plist@4 refuses an empty integer, real or date
        value = name === 'integer' ? parseInt(raw, 10) : name === 'real' ? parseFloat(raw) : new Date(raw);
        break;
      }
      case 'true':
      case 'false': {
        if (!empty) {
          if (!text.startsWith(`</${name}>`, pos)) return NOT_HANDLED;
          pos += name.length + 3;
        }
        value = name === 'true';
        break;
      }
      default:
        return NOT_HANDLED;
    }
    if (!add(value)) return NOT_HANDLED;
  }
}

function skipSpace(text: string, pos: number): number {
  for (let c = text.charCodeAt(pos); c === 0x20 || c === 0x0a || c === 0x09; c = text.charCodeAt(++pos));
  return pos;
}

/** Where `</name>` starts, when it is the next markup after `pos`; else -1. */
function closing(text: string, pos: number, name: string): number {
  const end = text.indexOf('<', pos);
  return end >= 0 && text.charCodeAt(end + 1) === SLASH && text.startsWith(`${name}>`, end + 2) ? end : -1;
}

const NAMED: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

/** Text with its entity and character references replaced; undefined for any other `&`. */
function decodeText(raw: string): string | undefined {
  let amp = raw.indexOf('&');
  if (amp < 0) return raw;
  let out = '';
  let from = 0;
  while (amp >= 0) {
    const semi = raw.indexOf(';', amp);
    if (semi < 0) return undefined;
    const name = raw.slice(amp + 1, semi);
    let replacement: string | undefined;
    if (name.startsWith('#')) {
      const code = /^#x[0-9A-Fa-f]{1,6}$/.test(name)
        ? parseInt(name.slice(2), 16)
        : /^#[0-9]{1,7}$/.test(name)
          ? parseInt(name.slice(1), 10)
          : NaN;
      if (!isXmlChar(code)) return undefined;
      replacement = String.fromCodePoint(code);
    } else {
      replacement = Object.prototype.hasOwnProperty.call(NAMED, name) ? NAMED[name] : undefined;
      if (replacement === undefined) return undefined;
    }
    out += raw.slice(from, amp) + replacement;
    from = semi + 1;
    amp = raw.indexOf('&', from);
  }
  return out + raw.slice(from);
}

/** XML 1.0 Char, less carriage return (plist@4 may normalise it). */
function isXmlChar(code: number): boolean {
  return (
    code === 0x09 ||
    code === 0x0a ||
    (code >= 0x20 && code <= 0xd7ff) ||
    (code >= 0xe000 && code <= 0xfffd) ||
    (code >= 0x10000 && code <= 0x10ffff)
  );
}

/** What `atob` accepts (forgiving base64, whitespace already removed), decoded; else undefined. */
function decodeBase64(text: string): Uint8Array | undefined {
  let body = text;
  if (body.length % 4 === 0) {
    if (body.endsWith('==')) body = body.slice(0, -2);
    else if (body.endsWith('=')) body = body.slice(0, -1);
  }
  if (body.length % 4 === 1 || !BASE64.test(body)) return undefined;
  const decoded = Buffer.from(body, 'base64');
  // a Uint8Array of its own (small Buffers share a pooled slab)
  const bytes = new Uint8Array(decoded.length);
  bytes.set(decoded);
  return bytes;
}
