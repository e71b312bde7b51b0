// Conformance of setTimeout, setInterval, their clear functions and queueMicrotask, run as a claims script with harness.js in
// front of it (see there).
function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

const getCustomJwtClaims = async () => {
  await checkAsync('microtask, then 0 ms timeout, then 5 ms timeout', async () => {
    const order = [];
    setTimeout(() => order.push('5ms'), 5);
    setTimeout(() => order.push('0ms'), 0);
    queueMicrotask(() => order.push('microtask'));
    Promise.resolve().then(() => order.push('promise'));
    order.push('sync');
    await sleep(30);
    return same(order, ['sync', 'microtask', 'promise', '0ms', '5ms']);
  });
  await checkAsync('equal delays run in creation order', async () => {
    const order = [];
    for (let i = 0; i < 5; i++) setTimeout(() => order.push(i), 1);
    await sleep(20);
    return same(order, [0, 1, 2, 3, 4]);
  });
  await checkAsync('shorter delays run first', async () => {
    const order = [];
    setTimeout(() => order.push(20), 20);
    setTimeout(() => order.push(10), 10);
    setTimeout(() => order.push(1), 1);
    await sleep(40);
    return same(order, [1, 10, 20]);
  });
  await checkAsync('a timeout waits at least its delay', async () => {
    const started = Date.now();
    await sleep(15);
    return eq(Date.now() - started >= 14, true);
  });
  await checkAsync('clearTimeout cancels', async () => {
    let ran = false;
    const id = setTimeout(() => { ran = true; }, 1);
    clearTimeout(id);
    await sleep(15);
    return eq(ran, false);
  });
  await checkAsync('a callback can cancel a later timer', async () => {
    let ran = false;
    let later;
    setTimeout(() => clearTimeout(later), 1);
    later = setTimeout(() => { ran = true; }, 2);
    await sleep(20);
    return eq(ran, false);
  });
  await checkAsync('setInterval runs 3 times, then is cleared', async () => {
    let count = 0;
    const id = setInterval(() => {
      count++;
      if (count === 3) clearInterval(id);
    }, 2);
    await sleep(60);
    return eq(count, 3);
  });
  await checkAsync('clearTimeout also clears an interval', async () => {
    let count = 0;
    const id = setInterval(() => { count++; }, 1);
    await sleep(10);
    clearTimeout(id);
    const seen = count;
    await sleep(10);
    return all(eq(seen > 0, true), eq(count, seen));
  });
  await checkAsync('extra arguments are passed on', async () => {
    let got = null;
    setTimeout((...args) => { got = args; }, 0, 'a', 2, null);
    await sleep(5);
    return same(got, ['a', 2, null]);
  });
  await checkAsync('a throwing callback does not stop the next one', async () => {
    let ran = false;
    setTimeout(() => { throw new TypeError('timer failure (expected in the log)'); }, 0);
    setTimeout(() => { ran = true; }, 0);
    await sleep(10);
    return eq(ran, true);
  });
  await checkAsync('a throwing interval keeps running', async () => {
    let count = 0;
    const id = setInterval(() => {
      count++;
      if (count === 2) clearInterval(id);
      throw new Error('interval failure (expected in the log)');
    }, 1);
    await sleep(30);
    return eq(count, 2);
  });
  await checkAsync('odd delays are coerced', async () => {
    const order = [];
    setTimeout(() => order.push('nan'), 'abc');
    setTimeout(() => order.push('negative'), -10);
    setTimeout(() => order.push('string'), '3');
    setTimeout(() => order.push('undefined'));
    await sleep(20);
    return same(order, ['nan', 'negative', 'undefined', 'string']);
  });
  check('ids are distinct positive integers', () => {
    const ids = [setTimeout(() => {}, 1000), setInterval(() => {}, 1000), setTimeout(() => {}, 1000)];
    ids.forEach((id) => clearTimeout(id));
    return all(
      eq(ids.every((id) => Number.isInteger(id) && id > 0), true),
      eq(new Set(ids).size, 3),
    );
  });
  check('string callbacks throw TypeError', () => {
    try {
      setTimeout('doSomething()', 0);
    } catch (error) {
      return all(eq(error instanceof TypeError, true), eq(/not supported/.test(error.message), true));
    }
    return 'expected a TypeError';
  });
  check('non-function callbacks throw TypeError', () => throws(() => setInterval(42, 0), 'TypeError', TypeError));
  check('clearing unknown ids is harmless', () => {
    clearTimeout(undefined);
    clearTimeout(123456);
    clearInterval(null);
    return true;
  });
  await checkAsync('queueMicrotask runs in order with promise jobs', async () => {
    const order = [];
    queueMicrotask(() => order.push(1));
    Promise.resolve().then(() => order.push(2));
    queueMicrotask(() => order.push(3));
    await null;
    await null;
    return same(order, [1, 2, 3]);
  });
  await checkAsync('a throwing microtask is reported, not rejected', async () => {
    let ran = false;
    queueMicrotask(() => { throw new Error('microtask failure (expected in the log)'); });
    queueMicrotask(() => { ran = true; });
    await sleep(0);
    return eq(ran, true);
  });
  check('queueMicrotask needs a function', () => throws(() => queueMicrotask('x'), 'TypeError', TypeError));
  await checkAsync('microtasks queued by a timer run before the next due timer', async () => {
    const order = [];
    // Both due at once: HTML runs a microtask checkpoint after each task.
    setTimeout(() => {
      order.push('A');
      queueMicrotask(() => order.push('microtask after A'));
      Promise.resolve().then(() => order.push('then after A'));
    }, 0);
    setTimeout(() => order.push('B'), 0);
    await sleep(10);
    return same(order, ['A', 'microtask after A', 'then after A', 'B']);
  });
  await checkAsync('clearTimeout cannot cancel AbortSignal.timeout', async () => {
    const signal = AbortSignal.timeout(5);
    const last = setTimeout(() => {}, 0);
    for (let id = -5; id <= last + 5; id++) clearTimeout(id);
    await sleep(20);
    return all(expect(signal.aborted, true), expect(signal.reason && signal.reason.name, 'TimeoutError'));
  });
  await checkAsync('timers keep time when a script mocks Date.now', async () => {
    const realNow = Date.now;
    Date.now = () => 0;
    try {
      let fired = false;
      await new Promise((resolve) => setTimeout(() => { fired = true; resolve(); }, 5));
      return eq(fired, true);
    } finally {
      Date.now = realNow;
    }
  });

  return { results };
};
