import fc from 'fast-check';
import { parse } from 'plist';
import { encodeAttached } from '../usbmux/usbmux-codec';
import { encodePlistXml, type PlistValue } from './plist';
import { NOT_HANDLED, readXmlPlist } from './xml-plist-reader';

// xmldom reports malformed XML on console.error before throwing; the fuzz cases make plenty.
beforeEach(() => jest.spyOn(console, 'error').mockImplementation(() => undefined));
afterEach(() => jest.restoreAllMocks());

/** plist@4's reading of `xml`, or 'throws'. */
function reference(xml: string): unknown {
  try {
    return parse(xml);
  } catch {
    return 'throws';
  }
}

/** Comparable form: Dates by their time (two Invalid Dates are the same reading), data as hex. */
function comparable(value: unknown): unknown {
  if (value instanceof Date) return `date:${value.getTime()}`;
  if (value instanceof Uint8Array) return `data:${Buffer.from(value).toString('hex')}`;
  if (Array.isArray(value)) return value.map(comparable);
  if (typeof value === 'object' && value !== null)
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, comparable(v)]));
  return value;
}

describe('readXmlPlist', () => {
  it('reads what our writer (plist@4 build) produces, exactly as plist@4 does', () => {
    const key = fc.string({ unit: fc.constantFrom('a', 'Z', '0', ' ', '.', '&', '<', 'é'), maxLength: 12 });
    const text = fc.string({
      unit: fc.constantFrom('a', ' ', '\t', '\n', '<', '>', '&', '"', "'", ']]>', 'é', '漢', '🙂'),
      maxLength: 30,
    });
    const value = fc.letrec<{ value: PlistValue }>((tie) => ({
      value: fc.oneof(
        { depthSize: 'small' },
        text,
        fc.integer(),
        fc.maxSafeInteger(),
        fc.boolean(),
        fc.uint8Array({ maxLength: 60 }),
        fc.double({ noNaN: true, noDefaultInfinity: true }),
        fc.date({ min: new Date(0), max: new Date(4e12), noInvalidDate: true }),
        fc.array(tie('value'), { maxLength: 4 }),
        fc.dictionary(
          key.filter((k) => k !== '__proto__'),
          tie('value'),
          { maxKeys: 4 },
        ),
      ),
    })).value;
    fc.assert(
      fc.property(value, (v) => {
        const xml = encodePlistXml({ root: v }).toString('utf8');
        const read = readXmlPlist(xml);
        expect(read).not.toBe(NOT_HANDLED);
        expect(read).toEqual(parse(xml));
      }),
      { numRuns: 300 },
    );
  });

  it('reads a usbmuxd device list and a libplist-style message', () => {
    const list = encodePlistXml({
      DeviceList: [1, 2].map((deviceId) =>
        encodeAttached({
          deviceId,
          serialNumber: `00008030-00${deviceId}A2D0E3C02E`,
          locationId: 0x10000 | deviceId,
          productId: 0x12a8,
          connectionType: 'USB',
          connectionSpeed: 480000000,
        }),
      ),
    }).toString();
    expect(readXmlPlist(list)).toEqual(parse(list));
    const libplist =
      '<?xml version="1.0" encoding="UTF-8"?>\n' +
      '<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">\n' +
      '<plist version="1.0">\n<dict>\n\t<key>MsgType</key>\n\t<string>StatusMsg</string>\n' +
      '\t<key>Status</key>\n\t<integer>18446744073709551615</integer>\n\t<key>Log</key>\n' +
      '\t<string>a &lt;b&gt; &amp; &#x1F642;&#10;</string>\n\t<key>Data</key>\n\t<data>\n\tAAEC\n\t/w==\n\t</data>\n' +
      '\t<key>Empty</key>\n\t<array/>\n\t<key>Odd</key>\n</dict>\n</plist>\n';
    expect(readXmlPlist(libplist)).toEqual({
      MsgType: 'StatusMsg',
      // 2^64 − 1 as a double (what both readers give for a uint64 beyond 2^53).
      Status: Number('18446744073709551615'),
      Log: 'a <b> & 🙂\n',
      Data: new Uint8Array([0, 1, 2, 255]),
      Empty: [],
      Odd: '',
    });
    expect(readXmlPlist(libplist)).toEqual(parse(libplist));
  });

  it('on any document: gives what plist@4 gives, or hands it back (never a different value)', () => {
    // mostly what peers write, now and then something only plist@4 reads (or refuses)
    const often = <T>(usual: fc.Arbitrary<T>, rare: fc.Arbitrary<T>) =>
      fc.oneof({ arbitrary: usual, weight: 12 }, { arbitrary: rare, weight: 1 });
    const text = fc
      .array(
        often(
          fc.constantFrom(
            'a',
            ' ',
            '\n',
            '\t',
            '>',
            '"',
            'é',
            '🙂',
            '__proto__',
            '&amp;',
            '&lt;',
            '&#65;',
            '&#x1F600;',
          ),
          fc.constantFrom(
            '\r',
            '&quot;',
            '&#0;',
            '&#xD800;',
            '&bogus;',
            '&',
            '&#;',
            '\u0001',
            '<!-- c -->',
            '<![CDATA[x<y]]>',
          ),
        ),
        { maxLength: 6 },
      )
      .map((parts) => parts.join(''));
    const ws = often(fc.constantFrom('', ' ', '\n', '\n\t'), fc.constant('junk'));
    const leafText = (tag: string, content: fc.Arbitrary<string>) =>
      fc.oneof(
        { arbitrary: content.map((c) => `<${tag}>${c}</${tag}>`), weight: 6 },
        fc.constant(`<${tag}/>`),
        fc.constant(`<${tag}></${tag}>`),
      );
    const node = fc.letrec<{ node: string }>((tie) => ({
      node: fc.oneof(
        { depthSize: 'small' },
        leafText('key', text),
        leafText('string', text),
        leafText(
          'integer',
          often(
            fc.constantFrom('5', ' -5 ', '18446744073709551615', '0'),
            fc.constantFrom('0x1F', '1e3', 'abc', '&#53;'),
          ),
        ),
        leafText('real', often(fc.constantFrom('2.5', '-1e-3', ' 7 '), fc.constant('x'))),
        leafText('date', fc.constantFrom('2020-01-02T03:04:05Z', ' 2001-01-01T00:00:00Z ')),
        leafText(
          'data',
          often(
            fc.constantFrom('AAEC/w==', 'AAEC\n\t/w==\n', 'AAE', ' Zm9v ', 'AA==', 'AA'),
            fc.constantFrom('A', 'AA=A', 'AA=', '****', 'AA&#61;'),
          ),
        ),
        often(
          fc.constantFrom('<true/>', '<false/>', '<true></true>', '<false></false>'),
          fc.constantFrom(
            '<false>x</false>',
            '<null/>',
            '<foo/>',
            '<Dict/>',
            '<dict >',
            '<key a="1">k</key>',
          ),
        ),
        often(
          leafText('string', text),
          fc.constantFrom('<?pi x?>', '<!-- c -->', 'stray', '<array><key>k</key></array>'),
        ),
        fc
          .tuple(fc.constantFrom('dict', 'array'), fc.array(fc.tuple(ws, tie('node')), { maxLength: 5 }), ws)
          .map(([tag, items, end]) => `<${tag}>${items.map(([w, n]) => w + n).join('')}${end}</${tag}>`),
        fc
          .tuple(fc.array(fc.tuple(leafText('key', text), tie('node')), { maxLength: 4 }), ws)
          .map(([pairs, end]) => `<dict>${pairs.map(([k, v]) => `\n\t${k}\n\t${v}`).join('')}${end}</dict>`),
      ),
    })).node;
    const document = fc
      .tuple(
        often(
          fc.constantFrom(
            '',
            '<?xml version="1.0" encoding="UTF-8"?>\n',
            '<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">\n',
          ),
          fc.constantFrom('\uFEFF<?xml version="1.0"?>', ' <!DOCTYPE plist [ ]>'),
        ),
        often(
          fc.constantFrom('<plist version="1.0">', '<plist>', '<plist version="1.0" >'),
          fc.constant('<plist/>'),
        ),
        fc.oneof(
          { arbitrary: node.map((n) => [n]), weight: 8 },
          { arbitrary: fc.array(node, { maxLength: 2 }), weight: 1 },
        ),
        often(
          fc.constantFrom('</plist>', '</plist>\n'),
          fc.constantFrom('</plist>x', '</plist><plist>', '', '</dict></plist>'),
        ),
      )
      .map(([prolog, open, nodes, close]) => prolog + open + nodes.join('\n') + close);

    let handled = 0;
    fc.assert(
      fc.property(document, (xml) => {
        const read = readXmlPlist(xml);
        if (read === NOT_HANDLED) return;
        handled++;
        expect(comparable(read)).toEqual(comparable(reference(xml)));
      }),
      { numRuns: 2000 },
    );
    // not vacuous: a good share of the documents took the fast path
    expect(handled).toBeGreaterThan(200);
  });
});
