// Conformance of AbortController, AbortSignal, DOMException, Event and EventTarget, run as a claims script with harness.js in
// front of it (see there).
function waitForAbort(signal) {
  return new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
}

const getCustomJwtClaims = async () => {
  // ---- DOMException ----

  check('DOMException defaults', () => {
    const error = new DOMException();
    return all(eq(error.name, 'Error'), eq(error.message, ''), eq(error.code, 0), eq(error instanceof Error, true));
  });
  check('DOMException legacy codes', () => all(
    eq(new DOMException('m', 'AbortError').code, 20), eq(new DOMException('m', 'TimeoutError').code, 23),
    eq(new DOMException('m', 'InvalidCharacterError').code, 5), eq(new DOMException('m', 'DataCloneError').code, 25),
    eq(new DOMException('m', 'QuotaExceededError').code, 22), eq(new DOMException('m', 'NotSupportedError').code, 9),
    eq(new DOMException('m', 'SyntaxError').code, 12), eq(new DOMException('m', 'InvalidStateError').code, 11),
    eq(new DOMException('m', 'EncodingError').code, 0),
  ));
  check('DOMException shape', () => {
    const error = new DOMException('boom', 'NotFoundError');
    return all(
      eq(String(error), 'NotFoundError: boom'),
      eq(Object.prototype.toString.call(error), '[object DOMException]'),
      eq(typeof error.stack, 'string'),
    );
  });

  // ---- Event and EventTarget ----

  check('Event properties', () => {
    const event = new Event('ping', { cancelable: true });
    return all(
      eq(event.type, 'ping'), eq(event.bubbles, false), eq(event.cancelable, true),
      eq(event.defaultPrevented, false), eq(event.target, null), eq(event.isTrusted, false),
      eq(typeof event.timeStamp, 'number'),
    );
  });
  check('dispatch sets target and calls listeners in order', () => {
    const target = new EventTarget();
    const seen = [];
    target.addEventListener('ping', (event) => seen.push(['first', event.target === target, event.currentTarget === target]));
    target.addEventListener('ping', { handleEvent(event) { seen.push(['object', this.handleEvent !== undefined, event.type]); } });
    target.addEventListener('pong', () => seen.push(['other']));
    const returned = target.dispatchEvent(new Event('ping'));
    return all(same(seen, [['first', true, true], ['object', true, 'ping']]), eq(returned, true));
  });
  check('preventDefault and the dispatch result', () => {
    const target = new EventTarget();
    target.addEventListener('x', (event) => event.preventDefault());
    const cancelable = new Event('x', { cancelable: true });
    const notCancelable = new Event('x');
    return all(
      eq(target.dispatchEvent(cancelable), false), eq(cancelable.defaultPrevented, true),
      eq(target.dispatchEvent(notCancelable), true), eq(notCancelable.defaultPrevented, false),
    );
  });
  check('identical listeners are added once', () => {
    const target = new EventTarget();
    let count = 0;
    const listener = () => count++;
    target.addEventListener('x', listener);
    target.addEventListener('x', listener);
    target.addEventListener('x', listener, { capture: true });
    target.dispatchEvent(new Event('x'));
    return eq(count, 2);
  });
  check('once listeners run once', () => {
    const target = new EventTarget();
    let count = 0;
    target.addEventListener('x', () => count++, { once: true });
    target.dispatchEvent(new Event('x'));
    target.dispatchEvent(new Event('x'));
    return eq(count, 1);
  });
  check('removeEventListener', () => {
    const target = new EventTarget();
    let count = 0;
    const listener = () => count++;
    target.addEventListener('x', listener);
    target.removeEventListener('x', listener);
    target.dispatchEvent(new Event('x'));
    return eq(count, 0);
  });
  check('a listener removed during dispatch does not run', () => {
    const target = new EventTarget();
    const seen = [];
    const second = () => seen.push('second');
    target.addEventListener('x', () => { seen.push('first'); target.removeEventListener('x', second); });
    target.addEventListener('x', second);
    target.dispatchEvent(new Event('x'));
    return same(seen, ['first']);
  });
  check('stopImmediatePropagation', () => {
    const target = new EventTarget();
    const seen = [];
    target.addEventListener('x', (event) => { seen.push(1); event.stopImmediatePropagation(); });
    target.addEventListener('x', () => seen.push(2));
    target.dispatchEvent(new Event('x'));
    return same(seen, [1]);
  });
  check('a throwing listener does not stop the others', () => {
    const target = new EventTarget();
    let reached = false;
    target.addEventListener('x', () => { throw new Error('listener failure (expected in the log)'); });
    target.addEventListener('x', () => { reached = true; });
    target.dispatchEvent(new Event('x'));
    return eq(reached, true);
  });
  check('signal option removes the listener', () => {
    const target = new EventTarget();
    const controller = new AbortController();
    let count = 0;
    target.addEventListener('x', () => count++, { signal: controller.signal });
    target.dispatchEvent(new Event('x'));
    controller.abort();
    target.dispatchEvent(new Event('x'));
    target.addEventListener('x', () => count++, { signal: controller.signal });
    target.dispatchEvent(new Event('x'));
    return eq(count, 1);
  });
  check('EventTarget can be subclassed', () => {
    class Emitter extends EventTarget {}
    const emitter = new Emitter();
    let got = null;
    emitter.addEventListener('x', (event) => { got = event.target; });
    emitter.dispatchEvent(new Event('x'));
    return eq(got, emitter);
  });

  // ---- AbortController and AbortSignal ----

  check('a new signal is not aborted', () => {
    const { signal } = new AbortController();
    return all(eq(signal.aborted, false), eq(signal.reason, undefined), eq(signal.throwIfAborted(), undefined));
  });
  check('abort fires the event once', () => {
    const controller = new AbortController();
    let events = 0;
    let handlerCalls = 0;
    let trusted = null;
    controller.signal.addEventListener('abort', (event) => { events++; trusted = event.isTrusted; });
    controller.signal.onabort = () => handlerCalls++;
    controller.abort();
    controller.abort('again');
    return all(eq(events, 1), eq(handlerCalls, 1), eq(trusted, true), eq(controller.signal.aborted, true));
  });
  check('default reason is an AbortError', () => {
    const controller = new AbortController();
    controller.abort();
    const reason = controller.signal.reason;
    return all(
      eq(reason instanceof DOMException, true), eq(reason.name, 'AbortError'), eq(reason.code, 20),
      eq(reason.message, 'This operation was aborted'),
    );
  });
  check('custom reason', () => {
    const controller = new AbortController();
    const reason = new Error('custom');
    controller.abort(reason);
    return all(eq(controller.signal.reason, reason), throws(() => controller.signal.throwIfAborted(), 'Error'));
  });
  check('throwIfAborted throws the reason itself', () => {
    const controller = new AbortController();
    controller.abort('plain string');
    try {
      controller.signal.throwIfAborted();
    } catch (error) {
      return eq(error, 'plain string');
    }
    return 'expected a throw';
  });
  check('onabort getter', () => {
    const { signal } = new AbortController();
    const handler = () => {};
    const before = signal.onabort;
    signal.onabort = handler;
    return all(eq(before, null), eq(signal.onabort, handler));
  });
  check('AbortSignal.abort', () => {
    const signal = AbortSignal.abort();
    const custom = AbortSignal.abort('why');
    return all(
      eq(signal.aborted, true), eq(signal.reason.name, 'AbortError'), eq(custom.reason, 'why'),
      eq(signal instanceof EventTarget, true),
    );
  });
  check('AbortSignal cannot be constructed', () => throws(() => new AbortSignal(), 'TypeError', TypeError));
  check('AbortSignal.timeout rejects bad delays', () => all(
    throws(() => AbortSignal.timeout(-1), 'TypeError', TypeError),
    throws(() => AbortSignal.timeout(Infinity), 'TypeError', TypeError),
  ));
  await checkAsync('AbortSignal.timeout aborts with a TimeoutError', async () => {
    const signal = AbortSignal.timeout(10);
    const before = signal.aborted;
    const started = Date.now();
    await waitForAbort(signal);
    return all(
      eq(before, false), eq(signal.aborted, true), eq(signal.reason instanceof DOMException, true),
      eq(signal.reason.name, 'TimeoutError'), eq(signal.reason.code, 23), eq(signal.reason.message, 'signal timed out'),
      eq(Date.now() - started >= 9, true),
    );
  });
  check('AbortSignal.any follows its sources', () => {
    const first = new AbortController();
    const second = new AbortController();
    const combined = AbortSignal.any([first.signal, second.signal]);
    let events = 0;
    combined.addEventListener('abort', () => events++);
    const before = combined.aborted;
    second.abort('second');
    first.abort('first');
    return all(eq(before, false), eq(combined.aborted, true), eq(combined.reason, 'second'), eq(events, 1));
  });
  check('AbortSignal.any with an aborted signal', () => {
    const combined = AbortSignal.any([new AbortController().signal, AbortSignal.abort('already')]);
    return all(eq(combined.aborted, true), eq(combined.reason, 'already'));
  });
  check('AbortSignal.any of AbortSignal.any', () => {
    const controller = new AbortController();
    const inner = AbortSignal.any([controller.signal]);
    const outer = AbortSignal.any([inner]);
    const order = [];
    inner.addEventListener('abort', () => order.push('inner'));
    outer.addEventListener('abort', () => order.push('outer'));
    controller.abort();
    return all(eq(outer.aborted, true), eq(outer.reason, controller.signal.reason), same(order, ['inner', 'outer']));
  });
  check('AbortSignal.any with no signals', () => eq(AbortSignal.any([]).aborted, false));
  check('AbortSignal.any rejects non-signals', () => throws(() => AbortSignal.any([{}]), 'TypeError', TypeError));
  await checkAsync('AbortSignal.any with a timeout', async () => {
    const combined = AbortSignal.any([new AbortController().signal, AbortSignal.timeout(5)]);
    await waitForAbort(combined);
    return eq(combined.reason.name, 'TimeoutError');
  });
  check('toStringTag', () => all(
    eq(Object.prototype.toString.call(new AbortController()), '[object AbortController]'),
    eq(Object.prototype.toString.call(AbortSignal.abort()), '[object AbortSignal]'),
    eq(Object.prototype.toString.call(new EventTarget()), '[object EventTarget]'),
    eq(Object.prototype.toString.call(new Event('x')), '[object Event]'),
  ));

  return { results };
};
