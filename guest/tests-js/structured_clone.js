// Conformance of structuredClone, run as a claims script with harness.js in
// front of it (see there).
function dataCloneError(value) {
  return all(
    throws(() => structuredClone(value), 'DataCloneError', DOMException),
    (() => {
      try {
        structuredClone(value);
      } catch (error) {
        return eq(error.code, 25);
      }
      return 'expected an error';
    })(),
  );
}

const getCustomJwtClaims = async () => {
  // ---- primitives ----

  check('primitives', () => all(
    eq(structuredClone(1.5), 1.5), eq(structuredClone('s'), 's'), eq(structuredClone(true), true),
    eq(structuredClone(null), null), eq(structuredClone(undefined), undefined), eq(structuredClone(10n), 10n),
    eq(structuredClone(-0), -0), eq(structuredClone(NaN), NaN),
  ));
  check('symbols throw DataCloneError', () => dataCloneError(Symbol('s')));

  // ---- objects and arrays ----

  check('plain object is a deep copy', () => {
    const original = { a: 1, nested: { b: [1, 2, { c: 'd' }] } };
    const copy = structuredClone(original);
    return all(
      same(copy, original),
      eq(copy === original, false),
      eq(copy.nested === original.nested, false),
      eq(copy.nested.b[2] === original.nested.b[2], false),
    );
  });
  check('cycles', () => {
    const original = { name: 'root', list: [] };
    original.self = original;
    original.list.push(original);
    const copy = structuredClone(original);
    return all(eq(copy.self, copy), eq(copy.list[0], copy), eq(copy === original, false));
  });
  check('shared references stay shared', () => {
    const shared = { n: 1 };
    const copy = structuredClone({ a: shared, b: shared, c: [shared] });
    return all(eq(copy.a, copy.b), eq(copy.c[0], copy.a), eq(copy.a === shared, false));
  });
  check('arrays keep holes, length and extra properties', () => {
    const original = [1, , 3];
    original.length = 5;
    original.extra = 'x';
    const copy = structuredClone(original);
    return all(
      eq(Array.isArray(copy), true), eq(copy.length, 5), eq(1 in copy, false), eq(copy[2], 3), eq(copy.extra, 'x'),
    );
  });
  check('getters are read, prototypes and non-enumerables dropped', () => {
    class Point { constructor() { this.x = 1; } get y() { return 2; } }
    const original = new Point();
    Object.defineProperty(original, 'hidden', { value: 3, enumerable: false });
    Object.defineProperty(original, 'computed', { get: () => 4, enumerable: true });
    const copy = structuredClone(original);
    return all(
      eq(Object.getPrototypeOf(copy), Object.prototype), eq(copy.x, 1), eq('y' in copy, false),
      eq('hidden' in copy, false), same(Object.getOwnPropertyDescriptor(copy, 'computed'), { value: 4, writable: true, enumerable: true, configurable: true }),
    );
  });
  check('__proto__ key stays a key', () => {
    const original = JSON.parse('{"__proto__": {"polluted": true}}');
    const copy = structuredClone(original);
    return all(eq(Object.getPrototypeOf(copy), Object.prototype), eq(copy.polluted, undefined), eq(Object.keys(copy).join(), '__proto__'));
  });

  // ---- built-in types ----

  check('Date', () => {
    const original = new Date(1700000000123);
    const copy = structuredClone(original);
    return all(eq(copy instanceof Date, true), eq(copy.getTime(), 1700000000123), eq(copy === original, false));
  });
  check('invalid Date', () => eq(Number.isNaN(structuredClone(new Date(NaN)).getTime()), true));
  check('RegExp', () => {
    const original = /a+b/giu;
    original.lastIndex = 3;
    const copy = structuredClone(original);
    return all(eq(copy instanceof RegExp, true), eq(copy.source, 'a+b'), eq(copy.flags, 'giu'), eq(copy.lastIndex, 0), eq(copy === original, false));
  });
  check('Map with object keys', () => {
    const key = { k: 1 };
    const original = new Map([[key, 'v'], ['self', null]]);
    original.set('self', original);
    const copy = structuredClone({ key, map: original });
    return all(
      eq(copy.map instanceof Map, true), eq(copy.map.size, 2), eq(copy.map.get(copy.key), 'v'),
      eq(copy.map.get('self'), copy.map), eq(copy.map.has(key), false),
    );
  });
  check('Set', () => {
    const member = { m: 1 };
    const copy = structuredClone({ member, set: new Set([1, 'two', member]) });
    return all(eq(copy.set instanceof Set, true), same([...copy.set].slice(0, 2), [1, 'two']), eq(copy.set.has(copy.member), true));
  });
  check('ArrayBuffer', () => {
    const original = new Uint8Array([1, 2, 3]).buffer;
    const copy = structuredClone(original);
    new Uint8Array(original)[0] = 9;
    return all(eq(copy instanceof ArrayBuffer, true), eq(copy.byteLength, 3), eq(new Uint8Array(copy)[0], 1));
  });
  check('typed arrays', () => {
    const copy = structuredClone({
      u8: new Uint8Array([1, 255]), i16: new Int16Array([-2]), f64: new Float64Array([0.5]), big: new BigInt64Array([-5n]),
    });
    return all(
      eq(copy.u8 instanceof Uint8Array, true), eq(copy.u8[1], 255), eq(copy.i16[0], -2),
      eq(copy.f64[0], 0.5), eq(copy.big[0], -5n),
    );
  });
  check('typed array keeps offset and length in a copied buffer', () => {
    const buffer = new ArrayBuffer(16);
    const view = new Uint16Array(buffer, 4, 3);
    view[0] = 7;
    const copy = structuredClone(view);
    return all(eq(copy.byteOffset, 4), eq(copy.length, 3), eq(copy.buffer.byteLength, 16), eq(copy[0], 7), eq(copy.buffer === buffer, false));
  });
  check('views sharing a buffer still share one', () => {
    const buffer = new ArrayBuffer(8);
    const copy = structuredClone({ a: new Uint8Array(buffer), b: new DataView(buffer, 2), buffer });
    copy.a[2] = 42;
    return all(
      eq(copy.a.buffer, copy.b.buffer), eq(copy.buffer, copy.a.buffer), eq(copy.b.getUint8(0), 42),
      eq(copy.b instanceof DataView, true), eq(copy.b.byteOffset, 2), eq(copy.b.byteLength, 6),
    );
  });
  check('primitive wrappers', () => {
    const copy = structuredClone([new Boolean(false), new Number(3), new String('s'), Object(7n)]);
    return all(
      eq(typeof copy[0], 'object'), eq(copy[0].valueOf(), false), eq(copy[1].valueOf(), 3),
      eq(copy[2].valueOf(), 's'), eq(copy[3].valueOf(), 7n),
    );
  });
  check('errors', () => {
    const original = new RangeError('out of range');
    const copy = structuredClone(original);
    return all(
      eq(copy instanceof RangeError, true), eq(copy.name, 'RangeError'), eq(copy.message, 'out of range'),
      eq(copy === original, false), eq(typeof copy.stack, typeof original.stack),
    );
  });
  check('errors with an unknown name become Error', () => {
    const original = new TypeError('x');
    original.name = 'CustomError';
    const copy = structuredClone(original);
    return all(eq(Object.getPrototypeOf(copy), Error.prototype), eq(copy.message, 'x'));
  });
  check('error without a message', () => eq(Object.prototype.hasOwnProperty.call(structuredClone(new Error()), 'message'), false));
  check('DOMException', () => {
    const copy = structuredClone(new DOMException('gone', 'AbortError'));
    return all(eq(copy instanceof DOMException, true), eq(copy.name, 'AbortError'), eq(copy.message, 'gone'), eq(copy.code, 20));
  });

  // ---- what cannot be cloned ----

  check('functions throw DataCloneError', () => dataCloneError(() => 1));
  check('nested functions throw DataCloneError', () => dataCloneError({ a: { f() {} } }));
  check('WeakMap throws DataCloneError', () => dataCloneError(new WeakMap()));
  check('WeakSet throws DataCloneError', () => dataCloneError(new WeakSet()));
  check('Promise throws DataCloneError', () => dataCloneError(Promise.resolve()));
  check('host objects throw DataCloneError', () => all(dataCloneError(new URL('http://x/')), dataCloneError(new AbortController().signal)));
  check('DataCloneError is an Error', () => {
    try {
      structuredClone(() => {});
    } catch (error) {
      return eq(error instanceof Error, true);
    }
    return 'expected an error';
  });
  check('transfer option is accepted', () => {
    const buffer = new Uint8Array([5]).buffer;
    return eq(new Uint8Array(structuredClone(buffer, { transfer: [buffer] }))[0], 5);
  });
  check('needs an argument', () => throws(() => structuredClone(), 'TypeError', TypeError));

  return { results };
};
