// Conformance of `crypto`: digests (FIPS 180-2), HMAC (RFC 4231), keys,
// random values and UUIDs. Runs with harness.js in front of it (see there).
const getCustomJwtClaims = async () => {
  const bytes = (text) => new TextEncoder().encode(text);
  const filled = (byte, length) => new Uint8Array(length).fill(byte);
  const hex = (buffer) => Array.from(new Uint8Array(buffer), (b) => b.toString(16).padStart(2, '0')).join('');
  const { subtle } = crypto;

  // ---- digests: FIPS 180-2 examples ----

  const DIGESTS = {
    'SHA-1': {
      '': 'da39a3ee5e6b4b0d3255bfef95601890afd80709',
      abc: 'a9993e364706816aba3e25717850c26c9cd0d89d',
    },
    'SHA-256': {
      '': 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
      abc: 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
    },
    'SHA-384': {
      '': '38b060a751ac96384cd9327eb1b1e36a21fdb71114be07434c0cc7bf63f6e1da274edebfe76f65fbd51ad2f14898b95b',
      abc: 'cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed8086072ba1e7cc2358baeca134c825a7',
    },
    'SHA-512': {
      '': 'cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e',
      abc: 'ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f',
    },
  };

  for (const [algorithm, answers] of Object.entries(DIGESTS)) {
    for (const [input, expected] of Object.entries(answers)) {
      await checkAsync(`digest ${algorithm} "${input}"`, async () => expect(hex(await subtle.digest(algorithm, bytes(input))), expected));
    }
  }
  await checkAsync('digest: {name}, lower case, ArrayBuffer data', async () =>
    expect(hex(await subtle.digest({ name: 'sha-256' }, bytes('abc').buffer)), DIGESTS['SHA-256'].abc));
  await checkAsync('digest: unsupported algorithm', () => rejectsWith(subtle.digest('MD5', bytes('abc')), 'NotSupportedError'));
  await checkAsync('digest: data not a BufferSource', () => rejectsWith(subtle.digest('SHA-256', 'abc'), 'TypeError'));

  // ---- HMAC: RFC 4231 test cases 1, 2, 3 and 7 ----

  const HMAC_CASES = {
    1: {
      key: filled(0x0b, 20),
      data: bytes('Hi There'),
      'SHA-256': 'b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7',
      'SHA-512': '87aa7cdea5ef619d4ff0b4241a1d6cb02379f4e2ce4ec2787ad0b30545e17cdedaa833b7d6b8a702038b274eaea3f4e4be9d914eeb61f1702e696c203a126854',
    },
    2: {
      key: bytes('Jefe'),
      data: bytes('what do ya want for nothing?'),
      'SHA-256': '5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843',
      'SHA-512': '164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea2505549758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737',
    },
    3: {
      key: filled(0xaa, 20),
      data: filled(0xdd, 50),
      'SHA-256': '773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe',
      'SHA-512': 'fa73b0089d56a284efb0f0756c890be9b1b5dbdd8ee81a3655f83e33b2279d39bf3e848279a722c806b485a47e67c807b946a337bee8942674278859e13292fb',
    },
    7: {
      key: filled(0xaa, 131),
      data: bytes('This is a test using a larger than block-size key and a larger than block-size data. The key needs to be hashed before being used by the HMAC algorithm.'),
      'SHA-256': '9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2',
      'SHA-512': 'e37b6a775dc87dbaa4dfa9f96e5e3ffddebd71f8867289865df5a32d20cdc944b6022cac3c4982b10d5eeb55c3e4de15134676fb6de0446065c97440fa8c6a58',
    },
  };

  const hmacKey = (key, hash, usages = ['sign', 'verify'], extractable = false) =>
    subtle.importKey('raw', key, { name: 'HMAC', hash }, extractable, usages);

  for (const [number, testCase] of Object.entries(HMAC_CASES)) {
    for (const hash of ['SHA-256', 'SHA-512']) {
      const name = `HMAC ${hash} RFC 4231 case ${number}`;
      await checkAsync(`${name}: sign`, async () =>
        expect(hex(await subtle.sign('HMAC', await hmacKey(testCase.key, hash), testCase.data)), testCase[hash]));
      await checkAsync(`${name}: verify`, async () => {
        const key = await hmacKey(testCase.key, hash);
        return expect(await subtle.verify('HMAC', key, await subtle.sign('HMAC', key, testCase.data), testCase.data), true);
      });
      await checkAsync(`${name}: verify tampered`, async () => {
        const key = await hmacKey(testCase.key, hash);
        const signature = new Uint8Array(await subtle.sign({ name: 'HMAC' }, key, testCase.data));
        signature[0] ^= 1;
        return expect(await subtle.verify({ name: 'HMAC' }, key, signature, testCase.data), false);
      });
    }
  }
  await checkAsync('verify: signature of the wrong length', async () =>
    expect(await subtle.verify('HMAC', await hmacKey(bytes('Jefe'), 'SHA-256'), new Uint8Array(5), bytes('x')), false));

  // ---- keys ----

  await checkAsync('importKey: hash as {name}', async () => {
    const key = await hmacKey(bytes('Jefe'), { name: 'SHA-256' }, ['sign']);
    return key instanceof CryptoKey && key.type === 'secret' && key.extractable === false &&
      key.algorithm.name === 'HMAC' && key.algorithm.hash.name === 'SHA-256' && key.algorithm.length === 32 &&
      expect(key.usages.join(), 'sign');
  });
  await checkAsync('importKey: hash as a string', async () =>
    expect((await hmacKey(bytes('Jefe'), 'sha-512')).algorithm.hash.name, 'SHA-512'));
  await checkAsync('importKey: unsupported algorithm', () =>
    rejectsWith(subtle.importKey('raw', bytes('k'), { name: 'AES-GCM' }, false, ['encrypt']), 'NotSupportedError'));
  await checkAsync('importKey: unsupported hash', () => rejectsWith(hmacKey(bytes('k'), 'MD5'), 'NotSupportedError'));
  await checkAsync('importKey: unsupported format', () =>
    rejectsWith(subtle.importKey('spki', bytes('k'), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']), 'NotSupportedError'));
  await checkAsync('importKey: usage not for HMAC', () => rejectsWith(hmacKey(bytes('k'), 'SHA-256', ['encrypt']), 'SyntaxError'));
  await checkAsync('importKey: no usages', () => rejectsWith(hmacKey(bytes('k'), 'SHA-256', []), 'SyntaxError'));
  await checkAsync('exportKey: raw round trip', async () => {
    const key = await hmacKey(bytes('Jefe'), 'SHA-256', ['sign'], true);
    return expect(hex(await subtle.exportKey('raw', key)), hex(bytes('Jefe')));
  });
  await checkAsync('exportKey: not extractable', async () =>
    rejectsWith(subtle.exportKey('raw', await hmacKey(bytes('Jefe'), 'SHA-256')), 'InvalidAccessError'));
  await checkAsync('sign: key without the sign usage', async () =>
    rejectsWith(subtle.sign('HMAC', await hmacKey(bytes('Jefe'), 'SHA-256', ['verify']), bytes('x')), 'InvalidAccessError'));
  await checkAsync('sign: unsupported algorithm', async () =>
    rejectsWith(subtle.sign('RSASSA-PKCS1-v1_5', await hmacKey(bytes('Jefe'), 'SHA-256'), bytes('x')), 'NotSupportedError'));
  check('CryptoKey cannot be constructed', () => {
    try { new CryptoKey(); return 'no exception'; } catch (error) { return expect(error.name, 'TypeError'); }
  });

  // ---- random values ----

  check('getRandomValues: fills and returns the same array', () => {
    const array = new Uint8Array(16);
    return all(expect(crypto.getRandomValues(array) === array, true), expect(array.some((b) => b !== 0), true));
  });
  check('getRandomValues: Float32Array rejected', () => {
    try { crypto.getRandomValues(new Float32Array(4)); return 'no exception'; } catch (error) { return expect(error.name, 'TypeMismatchError'); }
  });
  check('getRandomValues: 65537 bytes rejected', () => {
    try { crypto.getRandomValues(new Uint8Array(65537)); return 'no exception'; } catch (error) { return expect(error.name, 'QuotaExceededError'); }
  });
  check('getRandomValues: 65536 bytes accepted', () => expect(crypto.getRandomValues(new Uint32Array(16384)).length, 16384));
  check('randomUUID: version 4 format', () => {
    const uuid = crypto.randomUUID();
    return /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/.test(uuid) || `got ${uuid}`;
  });
  check('randomUUID: two differ', () => crypto.randomUUID() !== crypto.randomUUID());
  check('crypto is a Crypto, subtle a SubtleCrypto', () =>
    all(expect(crypto instanceof Crypto, true), expect(crypto.subtle instanceof SubtleCrypto, true),
      expect(Object.prototype.toString.call(crypto), '[object Crypto]')));

  return { results };
};
