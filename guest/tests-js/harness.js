// The harness every conformance script in this folder runs with: the test
// (crates/host/tests/all/web.rs) puts it in front of the script. A script's
// `getCustomJwtClaims` returns `{ results }`: each check's name mapped to true
// or to what went wrong.
const results = {};

function show(value) {
  try {
    return typeof value === 'string' ? JSON.stringify(value) : String(value);
  } catch (_) {
    return Object.prototype.toString.call(value);
  }
}

function record(name, outcome) {
  results[name] = outcome === true ? true : typeof outcome === 'string' ? outcome : `expected true, got ${show(outcome)}`;
}

function check(name, fn) {
  try {
    record(name, fn());
  } catch (error) {
    results[name] = String(error);
  }
}

async function checkAsync(name, fn) {
  try {
    record(name, await fn());
  } catch (error) {
    results[name] = String(error);
  }
}

// true, or 'expected X, got Y'.
function eq(actual, expected) {
  return Object.is(actual, expected) ? true : `expected ${show(expected)}, got ${show(actual)}`;
}

// Compares after JSON.stringify (arrays, plain objects).
function same(actual, expected) {
  return eq(JSON.stringify(actual), JSON.stringify(expected));
}

// true when fn throws an error named `name` (and, when given, an instance of `type`).
function throws(fn, name, type = undefined) {
  try {
    fn();
  } catch (error) {
    if (error === null || typeof error !== 'object' || error.name !== name) return `expected ${name}, got ${show(error)}`;
    if (type !== undefined && !(error instanceof type)) return `expected a ${type.name}, got ${show(error)}`;
    return true;
  }
  return `expected ${name} to be thrown, got no error`;
}

// The first failure among several outcomes, or true.
function all(...outcomes) {
  return outcomes.find((outcome) => outcome !== true) ?? true;
}

// true when `actual === expected`, else 'expected X, got Y'.
function expect(actual, expected) {
  return actual === expected || `expected ${show(expected)}, got ${show(actual)}`;
}

// true when `promise` rejects with an error named `errorName`.
async function rejectsWith(promise, errorName) {
  try {
    const value = await promise;
    return `expected a ${errorName} rejection, got ${show(value)}`;
  } catch (error) {
    return expect(error && error.name, errorName);
  }
}

// true when `fn` throws an instance of `type`.
function throwsType(fn, type) {
  try {
    fn();
    return `expected a ${type.name}, got no exception`;
  } catch (error) {
    return error instanceof type || `expected a ${type.name}, got ${error}`;
  }
}

// true when `promise` rejects with an instance of `type`.
async function rejectsType(promise, type) {
  try {
    const value = await promise;
    return `expected a ${type.name} rejection, got ${show(value)}`;
  } catch (error) {
    return error instanceof type || `expected a ${type.name}, got ${error}`;
  }
}
