// Conformance of atob and btoa, run as a claims script with harness.js in
// front of it (see there).
const ALL_BYTES_BASE64 = 'AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vMDEyMzQ1Njc4OTo7PD0+P0BBQkNERUZHSElKS0xNTk9QUVJTVFVWV1hZWltcXV5fYGFiY2RlZmdoaWprbG1ub3BxcnN0dXZ3eHl6e3x9fn+AgYKDhIWGh4iJiouMjY6PkJGSk5SVlpeYmZqbnJ2en6ChoqOkpaanqKmqq6ytrq+wsbKztLW2t7i5uru8vb6/wMHCw8TFxsfIycrLzM3Oz9DR0tPU1dbX2Nna29zd3t/g4eLj5OXm5+jp6uvs7e7v8PHy8/T19vf4+fr7/P3+/w==';

function invalidCharacter(fn) {
  return all(throws(fn, 'InvalidCharacterError', DOMException), throws(fn, 'InvalidCharacterError', Error), (() => {
    try {
      fn();
    } catch (error) {
      return eq(error.code, 5);
    }
    return 'expected an error';
  })());
}

const getCustomJwtClaims = async () => {
  check('btoa', () => all(eq(btoa('hello'), 'aGVsbG8='), eq(btoa(''), ''), eq(btoa('ab'), 'YWI='), eq(btoa('\xff\xfe'), '//4=')));
  check('btoa converts its argument to a string', () => all(eq(btoa(null), 'bnVsbA=='), eq(btoa(12), 'MTI=')));
  check('btoa rejects non-Latin-1', () => invalidCharacter(() => btoa('€')));
  check('btoa rejects surrogate pairs', () => invalidCharacter(() => btoa('😀')));
  check('atob', () => all(eq(atob('aGVsbG8='), 'hello'), eq(atob(''), '')));
  check('atob without padding', () => all(eq(atob('aGVsbG8'), 'hello'), eq(atob('aGVsbA'), 'hell')));
  check('atob with whitespace', () => eq(atob(' aGVs\tbG8=\n\f\r'), 'hello'));
  check('atob returns a binary string', () => all(eq(atob('/w=='), '\xff'), eq(atob('gA=='), '\x80')));
  check('atob rejects invalid characters', () => invalidCharacter(() => atob('aGV*bG8=')));
  check('atob rejects base64url characters', () => invalidCharacter(() => atob('-_-_')));
  check('atob rejects a bad length', () => invalidCharacter(() => atob('abcde')));
  check('atob rejects partial padding', () => invalidCharacter(() => atob('aGVsbA=')));
  check('atob rejects too much padding', () => invalidCharacter(() => atob('aGVsbA===')));
  check('atob rejects padding in the middle', () => invalidCharacter(() => atob('aG=Vs')));
  check('atob rejects non-ASCII', () => invalidCharacter(() => atob('aGVsbG8é')));
  check('atob(undefined) decodes "undefined" and fails', () => invalidCharacter(() => atob(undefined)));
  check('atob needs an argument', () => throws(() => atob(), 'TypeError', TypeError));
  check('all 256 bytes encode', () => {
    let binary = '';
    for (let i = 0; i < 256; i++) binary += String.fromCharCode(i);
    return eq(btoa(binary), ALL_BYTES_BASE64);
  });
  check('all 256 bytes round trip', () => {
    const decoded = atob(ALL_BYTES_BASE64);
    if (decoded.length !== 256) return eq(decoded.length, 256);
    for (let i = 0; i < 256; i++) {
      if (decoded.charCodeAt(i) !== i) return `byte ${i}: ${eq(decoded.charCodeAt(i), i)}`;
    }
    return eq(btoa(decoded), ALL_BYTES_BASE64);
  });
  check('long input round trips', () => {
    const binary = String.fromCharCode(...Array.from({ length: 30000 }, (_, i) => (i * 7) & 0xff));
    return eq(atob(btoa(binary)), binary);
  });

  return { results };
};
