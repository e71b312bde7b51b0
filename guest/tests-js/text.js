// Conformance of TextEncoder and TextDecoder, run as a claims script with harness.js in
// front of it (see there).
function bytes(array) {
  return `[${Array.from(array).join(',')}]`;
}

function decodeFatal(input) {
  return new TextDecoder('utf-8', { fatal: true }).decode(new Uint8Array(input));
}

function decodeLoose(input) {
  return new TextDecoder().decode(new Uint8Array(input));
}

const getCustomJwtClaims = async () => {
  // ---- TextEncoder ----

  const encoder = new TextEncoder();
  check('encoder encoding', () => eq(encoder.encoding, 'utf-8'));
  check('encode ASCII', () => eq(bytes(encoder.encode('hi')), '[104,105]'));
  check('encode returns a Uint8Array', () => eq(encoder.encode('x') instanceof Uint8Array, true));
  check('encode with no argument', () => eq(encoder.encode().length, 0));
  check('encode 2-, 3- and 4-byte characters', () => eq(
    bytes(encoder.encode('é€😀')),
    '[195,169,226,130,172,240,159,152,128]',
  ));
  check('encode lone surrogates as U+FFFD', () => eq(bytes(encoder.encode('a\ud800b\udc00')), '[97,239,191,189,98,239,191,189]'));
  check('encodeInto with room', () => {
    const target = new Uint8Array(8);
    const result = encoder.encodeInto('a😀b', target);
    return all(same(result, { read: 4, written: 6 }), eq(bytes(target), '[97,240,159,152,128,98,0,0]'));
  });
  check('encodeInto never splits a surrogate pair', () => {
    const target = new Uint8Array(4);
    const result = encoder.encodeInto('a😀b', target);
    return all(same(result, { read: 1, written: 1 }), eq(bytes(target), '[97,0,0,0]'));
  });
  check('encodeInto never splits a 3-byte character', () => {
    const target = new Uint8Array(5);
    return same(encoder.encodeInto('€€', target), { read: 1, written: 3 });
  });
  check('encodeInto an empty buffer', () => same(encoder.encodeInto('abc', new Uint8Array(0)), { read: 0, written: 0 }));
  check('encodeInto a subarray', () => {
    const backing = new Uint8Array(6);
    encoder.encodeInto('xy', backing.subarray(2, 4));
    return eq(bytes(backing), '[0,0,120,121,0,0]');
  });
  check('encodeInto a lone surrogate', () => {
    const target = new Uint8Array(3);
    return all(same(encoder.encodeInto('\ud800', target), { read: 1, written: 3 }), eq(bytes(target), '[239,191,189]'));
  });
  check('encodeInto needs a Uint8Array', () => throws(() => encoder.encodeInto('a', new Uint16Array(2)), 'TypeError', TypeError));

  // ---- TextDecoder ----

  const text = encoder.encode('héllo 😀');
  check('decode a Uint8Array', () => eq(new TextDecoder().decode(text), 'héllo 😀'));
  check('decode an ArrayBuffer', () => eq(new TextDecoder().decode(text.buffer), 'héllo 😀'));
  check('decode only the view\'s bytes', () => {
    const backing = encoder.encode('abcdef');
    return all(
      eq(new TextDecoder().decode(backing.subarray(1, 4)), 'bcd'),
      eq(new TextDecoder().decode(new DataView(backing.buffer, 2, 2)), 'cd'),
      eq(new TextDecoder().decode(new Uint16Array(backing.buffer, 2, 1)), 'cd'),
    );
  });
  check('decode with no input', () => eq(new TextDecoder().decode(), ''));
  check('decode rejects a string', () => throws(() => new TextDecoder().decode('abc'), 'TypeError', TypeError));
  check('fatal: 0xff throws', () => throws(() => decodeFatal([0xff]), 'TypeError', TypeError));
  check('fatal: truncated sequence throws', () => throws(() => decodeFatal([0x61, 0xe2, 0x82]), 'TypeError', TypeError));
  check('fatal: overlong encoding throws', () => throws(() => decodeFatal([0xc0, 0x80]), 'TypeError', TypeError));
  check('fatal: encoded surrogate throws', () => throws(() => decodeFatal([0xed, 0xa0, 0x80]), 'TypeError', TypeError));
  check('fatal: above U+10FFFF throws', () => throws(() => decodeFatal([0xf4, 0x90, 0x80, 0x80]), 'TypeError', TypeError));
  check('fatal: valid input decodes', () => eq(decodeFatal([0xf0, 0x9f, 0x98, 0x80]), '😀'));
  check('replacement: 0xff', () => eq(decodeLoose([0x61, 0xff, 0x62]), 'a\ufffdb'));
  check('replacement: truncated sequence', () => eq(decodeLoose([0x61, 0xe2, 0x82]), 'a\ufffd'));
  check('replacement: overlong encoding', () => eq(decodeLoose([0xc0, 0x80]), '\ufffd\ufffd'));
  check('replacement: encoded surrogate', () => eq(decodeLoose([0xed, 0xa0, 0x80]), '\ufffd\ufffd\ufffd'));
  check('BOM is stripped', () => eq(decodeLoose([0xef, 0xbb, 0xbf, 0x61]), 'a'));
  check('only one BOM is stripped', () => eq(decodeLoose([0xef, 0xbb, 0xbf, 0xef, 0xbb, 0xbf]), '\ufeff'));
  check('BOM is kept with ignoreBOM', () => eq(
    new TextDecoder('utf-8', { ignoreBOM: true }).decode(new Uint8Array([0xef, 0xbb, 0xbf, 0x61])),
    '\ufeffa',
  ));
  check('a BOM later on is kept', () => eq(decodeLoose([0x61, 0xef, 0xbb, 0xbf]), 'a\ufeff'));
  check('decoder attributes', () => {
    const plain = new TextDecoder();
    const strict = new TextDecoder('utf8', { fatal: true, ignoreBOM: true });
    return all(
      eq(plain.encoding, 'utf-8'), eq(plain.fatal, false), eq(plain.ignoreBOM, false),
      eq(strict.fatal, true), eq(strict.ignoreBOM, true),
    );
  });
  check('labels', () => all(
    eq(new TextDecoder('UTF-8').encoding, 'utf-8'),
    eq(new TextDecoder(' utf8\n').encoding, 'utf-8'),
    eq(new TextDecoder('Unicode-1-1-UTF-8').encoding, 'utf-8'),
  ));
  check('bad label throws RangeError', () => all(
    throws(() => new TextDecoder('latin1'), 'RangeError', RangeError),
    throws(() => new TextDecoder('utf-16'), 'RangeError', RangeError),
    throws(() => new TextDecoder('utf-8x'), 'RangeError', RangeError),
  ));
  check('streaming decode throws TypeError', () => {
    try {
      new TextDecoder().decode(text, { stream: true });
    } catch (error) {
      return all(eq(error instanceof TypeError, true), eq(/stream/.test(error.message), true));
    }
    return 'expected a TypeError';
  });
  check('stream: false is fine', () => eq(new TextDecoder().decode(text, { stream: false }), 'héllo 😀'));
  check('encode/decode round trip', () => {
    const sample = 'ASCII, ünïcödé, 中文, 🎉🚀, \u0000 and \uffff';
    return eq(new TextDecoder().decode(encoder.encode(sample)), sample);
  });
  check('toStringTag', () => all(
    eq(Object.prototype.toString.call(encoder), '[object TextEncoder]'),
    eq(Object.prototype.toString.call(new TextDecoder()), '[object TextDecoder]'),
  ));

  return { results };
};
