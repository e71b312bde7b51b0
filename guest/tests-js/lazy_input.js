// The run's input objects are built when first looked at (guest/src/lazy.rs):
// every operation on them must behave as on plain objects. Each check
// compares an input object with a plain copy of it, or with what a plain
// object gives. Runs with harness.js in front of it, on the RBAC example's
// input, whose context, user, application, interaction and first roles are
// big enough to be lazy.
const getCustomJwtClaims = async ({ token, context }) => checks(token, context);

// Strict, as modules and classes are: a refused assignment throws.
function checks(token, context) {
  'use strict';
  const plain = (value) => JSON.parse(JSON.stringify(value));
  const same = (a, b) => expect(JSON.stringify(a), JSON.stringify(b));

  check('identity is stable', () => all(
    expect(context.user === context.user, true),
    expect(context.user.roles[0] === context.user.roles[0], true)));
  check('prototype, instanceof, toString tag', () => {
    const { user } = context;
    return all(expect(Object.getPrototypeOf(user), Object.prototype), expect(user instanceof Object, true),
      expect(Object.prototype.toString.call(user), '[object Object]'), expect(typeof user, 'object'),
      expect(Array.isArray(user), false), expect(typeof user.hasOwnProperty, 'function'));
  });
  check('keys, names and own keys in JSON order', () => {
    const user = context.user;
    const copy = plain(user);
    return all(same(Object.keys(user), Object.keys(copy)), same(Object.getOwnPropertyNames(user), Object.keys(copy)),
      same(Reflect.ownKeys(context.interaction), Object.keys(plain(context.interaction))));
  });
  check('for...in lists the same keys', () => {
    const keys = [];
    for (const key in context.application) keys.push(key);
    return same(keys, Object.keys(plain(context.application)));
  });
  check('entries, values, spread and assign', () => {
    const role = context.user.roles[0];
    const copy = plain(role);
    return all(same(Object.entries(role), Object.entries(copy)), same(Object.values(role), Object.values(copy)),
      same({ ...role }, copy), same(Object.assign({}, role), copy), same(structuredClone(role), copy));
  });
  check('descriptors of data properties', () => {
    const d = Object.getOwnPropertyDescriptor(context.user, 'id');
    return all(expect(d.value, plain(context.user).id), expect(d.writable && d.enumerable && d.configurable, true),
      expect(Object.getOwnPropertyDescriptor(context.user, 'missing'), undefined));
  });
  check('in, hasOwnProperty, missing and inherited', () => {
    const { user } = context;
    return all(expect('id' in user, true), expect('missing' in user, false), expect(Object.hasOwn(user, 'roles'), true),
      expect(user.hasOwnProperty('toString'), false), expect(user.missing, undefined), expect('toString' in user, true));
  });
  check('assignment replaces in place and appends new keys', () => {
    const role = context.user.roles[1];
    const keys = Object.keys(role);
    role.name = 'renamed';
    role.added = 1;
    return all(expect(role.name, 'renamed'), same(Object.keys(role), [...keys, 'added']));
  });
  check('delete', () => {
    const role = context.user.roles[1];
    const removed = delete role.description;
    return all(expect(removed, true), expect('description' in role, false), expect(Object.keys(role).includes('description'), false));
  });
  check('defineProperty: hidden values and accessors', () => {
    const { interaction } = context;
    Object.defineProperty(interaction, 'hidden', { value: 2 });
    Object.defineProperty(interaction, 'computed', { get() { return 3; }, enumerable: true });
    return all(expect(interaction.hidden, 2), expect(Object.keys(interaction).includes('hidden'), false),
      expect(interaction.computed, 3), expect(Object.keys(interaction).at(-1), 'computed'));
  });
  check('symbols are own keys, not keys', () => {
    const symbol = Symbol('s');
    const { application } = context;
    application[symbol] = 1;
    return all(expect(application[symbol], 1), expect(Reflect.ownKeys(application).includes(symbol), true),
      expect(Object.keys(application).includes(symbol), false));
  });
  check('freeze: no change, no addition, no deletion', () => {
    const role = Object.freeze(context.user.roles[0]);
    return all(expect(Object.isFrozen(role), true), expect(Object.isExtensible(role), false),
      throwsType(() => { role.name = 'x'; }, TypeError), throwsType(() => { role.extra = 1; }, TypeError),
      throwsType(() => { delete role.name; }, TypeError), expect(role.name, plain(context).user.roles[0].name));
  });
  check('preventExtensions before the first look', () => {
    // token is looked at here for the first time.
    Object.preventExtensions(token);
    return all(expect(Object.isExtensible(token), false), throwsType(() => { token.extra = 1; }, TypeError),
      expect(typeof token.kind, 'string'));
  });
  check('seal keeps values writable', () => {
    const { user } = context;
    Object.seal(user);
    user.name = 'sealed';
    return all(expect(Object.isSealed(user), true), expect(user.name, 'sealed'), throwsType(() => { delete user.id; }, TypeError));
  });
  check('setPrototypeOf(null)', () => {
    const scope = context.user.roles[0].scopes[0];
    const keys = Object.keys(scope);
    const copy = plain(scope);
    const target = context.user.roles[2];
    Object.setPrototypeOf(target, null);
    return all(same(Object.keys(scope), keys), same(scope, copy), expect(target.toString, undefined),
      expect(Object.getPrototypeOf(target), null));
  });
  check('JSON.stringify with a replacer and indentation', () =>
    expect(JSON.stringify(context.application, ['id', 'name'], 2), JSON.stringify(plain(context.application), ['id', 'name'], 2)));
  check('survives a garbage collection', () => {
    const organizations = context.user.organizations;
    let junk = [];
    for (let i = 0; i < 20000; i++) junk.push({ i, cycle: junk });
    junk = null;
    return all(expect(organizations === context.user.organizations, true), expect(typeof organizations[0].id, 'string'));
  });

  return { results };
}
