// The web platform globals a claims script can count on (WHATWG/W3C
// semantics, trimmed to what runs without a DOM): DOMException, Event,
// EventTarget, AbortController/AbortSignal, timers and queueMicrotask, URL and
// URLSearchParams, TextEncoder/TextDecoder, atob/btoa and structuredClone.
//
// Byte-level work (UTF-8, base64, URL and form parsing) is done by the Rust
// side (`native`); this file gives it the web's shape. Every class keeps its
// state in a WeakMap, so nothing internal is reachable from a script. Timers
// live here too: the driver asks `shared.nextTimerDelay()` how long it may
// wait and calls `shared.fireTimers()` when the wait is over.
(function (native, shared) {
  'use strict';

  // ---- helpers ------------------------------------------------------------

  function install(name, value) {
    Object.defineProperty(globalThis, name, { value, writable: true, configurable: true });
  }

  // Gives a class's prototype WebIDL's shape: enumerable members and a
  // Symbol.toStringTag.
  function tag(cls) {
    for (const key of Object.getOwnPropertyNames(cls.prototype)) {
      if (key !== 'constructor') Object.defineProperty(cls.prototype, key, { enumerable: true });
    }
    Object.defineProperty(cls.prototype, Symbol.toStringTag, { value: cls.name, configurable: true });
  }

  // The state a class keeps for `self`, or a TypeError when `self` is not one
  // of its instances (a method called on the wrong `this`).
  function stateOf(map, self, className) {
    const state = map.get(self);
    if (state === undefined) throw new TypeError(`Illegal invocation: not a ${className}`);
    return state;
  }

  function requireArgs(count, needed, where) {
    if (count < needed) {
      throw new TypeError(`${where}: ${needed} argument${needed > 1 ? 's' : ''} required, but only ${count} present`);
    }
  }

  // WebIDL USVString: ToString (which throws for symbols), then lone
  // surrogates become U+FFFD.
  const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;
  function usv(value) {
    return `${value}`.replace(LONE_SURROGATE, '\ufffd');
  }

  // How an uncaught error from a callback shows in the run's log.
  function reportUncaught(where, error) {
    let text;
    try {
      if (error instanceof Error) {
        text = `${error.name}: ${error.message}`;
        const stack = typeof error.stack === 'string' ? error.stack.trimEnd() : '';
        if (stack !== '') text = stack.startsWith(text) ? stack : `${text}\n${stack}`;
      } else {
        text = String(error);
      }
    } catch (_) {
      text = Object.prototype.toString.call(error);
    }
    native.log(4, `Uncaught (in ${where}) ${text}`);
  }

  // ---- DOMException -------------------------------------------------------

  const LEGACY_CODES = {
    IndexSizeError: 1, HierarchyRequestError: 3, WrongDocumentError: 4, InvalidCharacterError: 5,
    NoModificationAllowedError: 7, NotFoundError: 8, NotSupportedError: 9, InUseAttributeError: 10,
    InvalidStateError: 11, SyntaxError: 12, InvalidModificationError: 13, NamespaceError: 14,
    InvalidAccessError: 15, TypeMismatchError: 17, SecurityError: 18, NetworkError: 19, AbortError: 20,
    URLMismatchError: 21, QuotaExceededError: 22, TimeoutError: 23, InvalidNodeTypeError: 24,
    DataCloneError: 25,
  };

  const domExceptions = new WeakMap();

  class DOMException extends Error {
    constructor(message = '', name = 'Error') {
      super(`${message}`);
      domExceptions.set(this, { name: `${name}` });
    }

    get name() {
      return stateOf(domExceptions, this, 'DOMException').name;
    }

    get code() {
      const name = stateOf(domExceptions, this, 'DOMException').name;
      return Object.prototype.hasOwnProperty.call(LEGACY_CODES, name) ? LEGACY_CODES[name] : 0;
    }
  }
  tag(DOMException);
  install('DOMException', DOMException);

  // ---- Event and EventTarget ----------------------------------------------

  const events = new WeakMap();

  class Event {
    constructor(type, init = undefined) {
      requireArgs(arguments.length, 1, 'Event constructor');
      const options = init ?? {};
      events.set(this, {
        type: `${type}`,
        bubbles: Boolean(options.bubbles),
        cancelable: Boolean(options.cancelable),
        composed: Boolean(options.composed),
        trusted: false,
        canceled: false,
        inPassiveListener: false,
        stopped: false,
        stoppedImmediately: false,
        dispatching: false,
        target: null,
        currentTarget: null,
        timeStamp: Date.now(),
      });
    }

    get type() { return stateOf(events, this, 'Event').type; }
    get target() { return stateOf(events, this, 'Event').target; }
    get srcElement() { return this.target; }
    get currentTarget() { return stateOf(events, this, 'Event').currentTarget; }
    get eventPhase() { return stateOf(events, this, 'Event').currentTarget === null ? 0 : 2; }
    get bubbles() { return stateOf(events, this, 'Event').bubbles; }
    get cancelable() { return stateOf(events, this, 'Event').cancelable; }
    get composed() { return stateOf(events, this, 'Event').composed; }
    get isTrusted() { return stateOf(events, this, 'Event').trusted; }
    get timeStamp() { return stateOf(events, this, 'Event').timeStamp; }
    get defaultPrevented() { return stateOf(events, this, 'Event').canceled; }

    composedPath() {
      const state = stateOf(events, this, 'Event');
      return state.currentTarget === null ? [] : [state.currentTarget];
    }

    preventDefault() {
      const state = stateOf(events, this, 'Event');
      if (state.cancelable && !state.inPassiveListener) state.canceled = true;
    }

    get returnValue() { return !this.defaultPrevented; }
    set returnValue(value) { if (!value) this.preventDefault(); }

    stopPropagation() { stateOf(events, this, 'Event').stopped = true; }

    stopImmediatePropagation() {
      const state = stateOf(events, this, 'Event');
      state.stopped = true;
      state.stoppedImmediately = true;
    }

    get cancelBubble() { return stateOf(events, this, 'Event').stopped; }
    set cancelBubble(value) { if (value) this.stopPropagation(); }
  }
  for (const [name, value] of [['NONE', 0], ['CAPTURING_PHASE', 1], ['AT_TARGET', 2], ['BUBBLING_PHASE', 3]]) {
    Object.defineProperty(Event, name, { value, enumerable: true });
    Object.defineProperty(Event.prototype, name, { value, enumerable: true });
  }
  tag(Event);

  // An event the platform itself fires (isTrusted is true).
  function trustedEvent(type) {
    const event = new Event(type);
    events.get(event).trusted = true;
    return event;
  }

  // Per target: type -> list of { callback, capture, once, passive, removed }.
  const eventTargets = new WeakMap();

  function flattenOptions(options) {
    if (typeof options === 'boolean' || options === undefined || options === null) {
      return { capture: Boolean(options), once: false, passive: false, signal: undefined };
    }
    return {
      capture: Boolean(options.capture),
      once: Boolean(options.once),
      passive: Boolean(options.passive),
      signal: options.signal,
    };
  }

  function findListener(list, callback, capture) {
    return list.findIndex((l) => l.callback === callback && l.capture === capture);
  }

  function removeListener(listeners, type, listener) {
    const list = listeners.get(type);
    const index = list === undefined ? -1 : list.indexOf(listener);
    if (index !== -1) list.splice(index, 1);
    listener.removed = true;
  }

  function invokeListener(listener, event, target) {
    const state = events.get(event);
    state.inPassiveListener = listener.passive;
    try {
      const callback = listener.callback;
      if (typeof callback === 'function') {
        callback.call(target, event);
      } else {
        const handleEvent = callback.handleEvent;
        if (typeof handleEvent !== 'function') throw new TypeError('handleEvent is not a function');
        handleEvent.call(callback, event);
      }
    } catch (error) {
      reportUncaught('event listener', error);
    }
    state.inPassiveListener = false;
  }

  class EventTarget {
    constructor() {
      eventTargets.set(this, new Map());
    }

    addEventListener(type, callback, options = undefined) {
      requireArgs(arguments.length, 2, 'EventTarget.addEventListener');
      const listeners = stateOf(eventTargets, this, 'EventTarget');
      const { capture, once, passive, signal } = flattenOptions(options);
      if (signal !== undefined && !abortSignals.has(signal)) {
        throw new TypeError("EventTarget.addEventListener: 'signal' is not an AbortSignal");
      }
      if (callback === null || callback === undefined) return;
      if (typeof callback !== 'function' && typeof callback !== 'object') {
        throw new TypeError('EventTarget.addEventListener: the listener is not an object');
      }
      if (signal !== undefined && abortSignals.get(signal).aborted) return;
      const key = `${type}`;
      if (!listeners.has(key)) listeners.set(key, []);
      const list = listeners.get(key);
      if (findListener(list, callback, capture) !== -1) return;
      const listener = { callback, capture, once, passive, removed: false };
      list.push(listener);
      if (signal !== undefined) {
        abortSignals.get(signal).algorithms.push(() => removeListener(listeners, key, listener));
      }
    }

    removeEventListener(type, callback, options = undefined) {
      requireArgs(arguments.length, 2, 'EventTarget.removeEventListener');
      const listeners = stateOf(eventTargets, this, 'EventTarget');
      const list = listeners.get(`${type}`);
      if (list === undefined) return;
      const index = findListener(list, callback, flattenOptions(options).capture);
      if (index !== -1) removeListener(listeners, `${type}`, list[index]);
    }

    // There is no tree here, so an event only ever reaches its target.
    dispatchEvent(event) {
      requireArgs(arguments.length, 1, 'EventTarget.dispatchEvent');
      const listeners = stateOf(eventTargets, this, 'EventTarget');
      const state = stateOf(events, event, 'Event');
      if (state.dispatching) throw new DOMException('The event is already being dispatched.', 'InvalidStateError');
      state.dispatching = true;
      state.target = this;
      state.currentTarget = this;
      for (const listener of [...(listeners.get(state.type) ?? [])]) {
        if (state.stoppedImmediately) break;
        if (listener.removed) continue;
        if (listener.once) removeListener(listeners, state.type, listener);
        invokeListener(listener, event, this);
      }
      state.currentTarget = null;
      state.dispatching = false;
      state.stopped = false;
      state.stoppedImmediately = false;
      return !state.canceled;
    }
  }
  tag(EventTarget);

  // An `on<type>` attribute: its handler sits in the listener list from the
  // first time it is set to a function, at that position.
  function defineEventHandler(cls, type) {
    const handlers = new WeakMap();
    Object.defineProperty(cls.prototype, `on${type}`, {
      enumerable: true,
      configurable: true,
      get() {
        stateOf(eventTargets, this, cls.name);
        return handlers.get(this)?.handler ?? null;
      },
      set(value) {
        stateOf(eventTargets, this, cls.name);
        const handler = typeof value === 'function' ? value : null;
        let entry = handlers.get(this);
        if (entry === undefined && handler !== null) {
          entry = { handler: null };
          handlers.set(this, entry);
          this.addEventListener(type, function (event) {
            if (entry.handler !== null) entry.handler.call(this, event);
          });
        }
        if (entry !== undefined) entry.handler = handler;
      },
    });
  }

  install('Event', Event);
  install('EventTarget', EventTarget);

  // ---- AbortController and AbortSignal ------------------------------------

  // Per signal: { aborted, reason, algorithms (run on abort, before the event),
  // sources and dependents (for AbortSignal.any) }.
  const abortSignals = new WeakMap();

  function createAbortSignal() {
    const signal = Object.create(AbortSignal.prototype);
    eventTargets.set(signal, new Map());
    abortSignals.set(signal, {
      aborted: false,
      reason: undefined,
      algorithms: [],
      dependent: false,
      sources: new Set(),
      dependents: new Set(),
    });
    return signal;
  }

  function abortReason(reason) {
    return reason === undefined ? new DOMException('This operation was aborted', 'AbortError') : reason;
  }

  function runAbortSteps(signal) {
    const state = abortSignals.get(signal);
    const algorithms = state.algorithms;
    state.algorithms = [];
    for (const algorithm of algorithms) algorithm();
    signal.dispatchEvent(trustedEvent('abort'));
  }

  function signalAbort(signal, reason) {
    const state = abortSignals.get(signal);
    if (state.aborted) return;
    state.aborted = true;
    state.reason = abortReason(reason);
    const dependentsToAbort = [];
    for (const dependent of state.dependents) {
      const dependentState = abortSignals.get(dependent);
      if (dependentState.aborted) continue;
      dependentState.aborted = true;
      dependentState.reason = state.reason;
      dependentsToAbort.push(dependent);
    }
    runAbortSteps(signal);
    for (const dependent of dependentsToAbort) runAbortSteps(dependent);
  }

  // WebIDL [EnforceRange] unsigned long long.
  function enforceMilliseconds(value, where) {
    const number = Math.trunc(Number(value));
    if (!Number.isFinite(number) || number < 0 || number > Number.MAX_SAFE_INTEGER) {
      throw new TypeError(`${where}: ${String(value)} is not a valid number of milliseconds`);
    }
    return number;
  }

  class AbortSignal extends EventTarget {
    constructor() {
      throw new TypeError('Illegal constructor');
    }

    static abort(reason = undefined) {
      const signal = createAbortSignal();
      const state = abortSignals.get(signal);
      state.aborted = true;
      state.reason = abortReason(reason);
      return signal;
    }

    static timeout(milliseconds) {
      requireArgs(arguments.length, 1, 'AbortSignal.timeout');
      native.refuseAtLoad('AbortSignal.timeout');
      const delay = enforceMilliseconds(milliseconds, 'AbortSignal.timeout');
      const signal = createAbortSignal();
      // Keyed by an object, not a number: clearTimeout cannot cancel it.
      scheduleTimer(() => {
        signalAbort(signal, new DOMException('signal timed out', 'TimeoutError'));
      }, [], delay, false, 'AbortSignal.timeout callback', {});
      return signal;
    }

    static any(signals) {
      requireArgs(arguments.length, 1, 'AbortSignal.any');
      const inputs = [...signals];
      for (const input of inputs) stateOf(abortSignals, input, 'AbortSignal');
      const result = createAbortSignal();
      const state = abortSignals.get(result);
      const aborted = inputs.find((input) => abortSignals.get(input).aborted);
      if (aborted !== undefined) {
        state.aborted = true;
        state.reason = abortSignals.get(aborted).reason;
        return result;
      }
      state.dependent = true;
      for (const input of inputs) {
        const inputState = abortSignals.get(input);
        const sources = inputState.dependent ? inputState.sources : [input];
        for (const source of sources) {
          state.sources.add(source);
          abortSignals.get(source).dependents.add(result);
        }
      }
      return result;
    }

    get aborted() { return stateOf(abortSignals, this, 'AbortSignal').aborted; }
    get reason() { return stateOf(abortSignals, this, 'AbortSignal').reason; }

    throwIfAborted() {
      const state = stateOf(abortSignals, this, 'AbortSignal');
      if (state.aborted) throw state.reason;
    }
  }
  defineEventHandler(AbortSignal, 'abort');
  tag(AbortSignal);

  const abortControllers = new WeakMap();

  class AbortController {
    constructor() {
      abortControllers.set(this, createAbortSignal());
    }

    get signal() { return stateOf(abortControllers, this, 'AbortController'); }

    abort(reason = undefined) {
      signalAbort(stateOf(abortControllers, this, 'AbortController'), reason);
    }
  }
  tag(AbortController);

  install('AbortSignal', AbortSignal);
  install('AbortController', AbortController);

  // ---- timers and queueMicrotask ------------------------------------------

  // id -> { id, callback, args, delay, repeat, where, deadline, order }.
  // Due timers run by deadline, then by when they were (re)scheduled. The
  // ids of setTimeout and setInterval are numbers; the runtime's own timers
  // (AbortSignal.timeout) are keyed by objects.
  const timers = new Map();
  let lastTimerId = 0;
  let lastTimerOrder = 0;
  // Captured now: a script that mocks Date.now does not stall its timers.
  const now = Date.now;

  // WebIDL `long`, then negative delays become 0 (as browsers do).
  function timerDelay(value) {
    return Math.max(0, +value | 0);
  }

  function scheduleTimer(callback, args, delay, repeat, where, id = ++lastTimerId) {
    timers.set(id, {
      id, callback, args, delay, repeat, where,
      deadline: now() + delay,
      order: ++lastTimerOrder,
    });
    return id;
  }

  function timerCallback(handler, where) {
    if (typeof handler === 'string') throw new TypeError(`${where}: string callbacks are not supported`);
    if (typeof handler !== 'function') throw new TypeError(`${where}: the callback is not a function`);
    return handler;
  }

  // Timers belong to a run: one set by top-level code would be part of the
  // snapshot, with a deadline from the time the script was compiled.
  function setTimeout(handler, timeout = 0, ...args) {
    native.refuseAtLoad('setTimeout');
    const callback = timerCallback(handler, 'setTimeout');
    return scheduleTimer(callback, args, timerDelay(timeout), false, 'setTimeout callback');
  }

  function setInterval(handler, timeout = 0, ...args) {
    native.refuseAtLoad('setInterval');
    const callback = timerCallback(handler, 'setInterval');
    return scheduleTimer(callback, args, timerDelay(timeout), true, 'setInterval callback');
  }

  // clearTimeout and clearInterval share one pool of ids, as in browsers.
  function clearTimeout(id = 0) {
    timers.delete(+id | 0);
  }

  function clearInterval(id = 0) {
    timers.delete(+id | 0);
  }

  // Milliseconds until the earliest timer is due (0 when one already is), or
  // undefined when there is no timer.
  function nextTimerDelay() {
    let earliest = Infinity;
    for (const timer of timers.values()) earliest = Math.min(earliest, timer.deadline);
    return earliest === Infinity ? undefined : Math.max(0, earliest - now());
  }

  // Runs the first timer due now, if any. One at a time: the driver runs the
  // microtasks it queued before the next (HTML's microtask checkpoint after
  // each task), asking `nextTimerDelay` again in between.
  function fireTimers() {
    const time = now();
    let first;
    for (const timer of timers.values()) {
      if (timer.deadline > time) continue;
      if (first === undefined || timer.deadline < first.deadline
          || (timer.deadline === first.deadline && timer.order < first.order)) {
        first = timer;
      }
    }
    if (first === undefined) return;
    if (!first.repeat) timers.delete(first.id);
    try {
      first.callback.apply(globalThis, first.args);
    } catch (error) {
      reportUncaught(first.where, error);
    }
    if (first.repeat && timers.get(first.id) === first) {
      first.deadline = now() + first.delay;
      first.order = ++lastTimerOrder;
    }
  }

  const resolvedPromise = Promise.resolve();
  const promiseThen = Promise.prototype.then;

  function queueMicrotask(callback) {
    requireArgs(arguments.length, 1, 'queueMicrotask');
    if (typeof callback !== 'function') throw new TypeError('queueMicrotask: the callback is not a function');
    promiseThen.call(resolvedPromise, () => {
      try {
        callback();
      } catch (error) {
        reportUncaught('queueMicrotask callback', error);
      }
    });
  }

  // For fetch: run `algorithm` when `signal` aborts, before its event, as
  // the platform's own abort steps do (a script's listeners or a dispatched
  // look-alike event cannot stop or fake it). Returns what removes it.
  shared.onAbort = (signal, algorithm) => {
    const state = abortSignals.get(signal);
    const entry = () => algorithm();
    state.algorithms.push(entry);
    return () => {
      const i = state.algorithms.indexOf(entry);
      if (i >= 0) state.algorithms.splice(i, 1);
    };
  };
  shared.abortState = (signal) => {
    const { aborted, reason } = abortSignals.get(signal);
    return { aborted, reason };
  };

  shared.nextTimerDelay = nextTimerDelay;
  shared.fireTimers = fireTimers;
  install('setTimeout', setTimeout);
  install('clearTimeout', clearTimeout);
  install('setInterval', setInterval);
  install('clearInterval', clearInterval);
  install('queueMicrotask', queueMicrotask);

  // ---- URLSearchParams ----------------------------------------------------

  // Per object: { list: [[name, value], ...], url: the URL state it belongs
  // to, or null }.
  const searchParams = new WeakMap();

  function pairsFromInit(init) {
    if ((typeof init === 'object' && init !== null) || typeof init === 'function') {
      const iteratorMethod = init[Symbol.iterator];
      if (iteratorMethod !== undefined && iteratorMethod !== null) {
        return Array.from({ [Symbol.iterator]: () => iteratorMethod.call(init) }, (pair) => {
          if (typeof pair !== 'object' || pair === null) {
            throw new TypeError('URLSearchParams: each pair must be an iterable of [name, value]');
          }
          const items = [...pair];
          if (items.length !== 2) throw new TypeError('URLSearchParams: each pair must have exactly 2 items');
          return [usv(items[0]), usv(items[1])];
        });
      }
      const pairs = [];
      for (const key of Reflect.ownKeys(init)) {
        const descriptor = Reflect.getOwnPropertyDescriptor(init, key);
        if (typeof key === 'string' && descriptor !== undefined && descriptor.enumerable) {
          pairs.push([usv(key), usv(init[key])]);
        }
      }
      return pairs;
    }
    const query = usv(init);
    return native.formParse(query.startsWith('?') ? query.slice(1) : query);
  }

  // Writes a changed list back into the URL it belongs to.
  function updateSearchParams(state) {
    if (state.url !== null) setURLComponent(state.url, 'search', native.formSerialize(state.list), false);
  }

  class URLSearchParams {
    constructor(init = '') {
      searchParams.set(this, { list: pairsFromInit(init), url: null });
    }

    get size() { return stateOf(searchParams, this, 'URLSearchParams').list.length; }

    append(name, value) {
      requireArgs(arguments.length, 2, 'URLSearchParams.append');
      const state = stateOf(searchParams, this, 'URLSearchParams');
      state.list.push([usv(name), usv(value)]);
      updateSearchParams(state);
    }

    delete(name, value = undefined) {
      requireArgs(arguments.length, 1, 'URLSearchParams.delete');
      const state = stateOf(searchParams, this, 'URLSearchParams');
      const key = usv(name);
      const wanted = value === undefined ? undefined : usv(value);
      state.list = state.list.filter(([n, v]) => n !== key || (wanted !== undefined && v !== wanted));
      updateSearchParams(state);
    }

    get(name) {
      requireArgs(arguments.length, 1, 'URLSearchParams.get');
      const key = usv(name);
      const pair = stateOf(searchParams, this, 'URLSearchParams').list.find(([n]) => n === key);
      return pair === undefined ? null : pair[1];
    }

    getAll(name) {
      requireArgs(arguments.length, 1, 'URLSearchParams.getAll');
      const key = usv(name);
      return stateOf(searchParams, this, 'URLSearchParams').list.filter(([n]) => n === key).map(([, v]) => v);
    }

    has(name, value = undefined) {
      requireArgs(arguments.length, 1, 'URLSearchParams.has');
      const key = usv(name);
      const wanted = value === undefined ? undefined : usv(value);
      return stateOf(searchParams, this, 'URLSearchParams').list
        .some(([n, v]) => n === key && (wanted === undefined || v === wanted));
    }

    // Replaces the first pair named `name` and drops the others.
    set(name, value) {
      requireArgs(arguments.length, 2, 'URLSearchParams.set');
      const state = stateOf(searchParams, this, 'URLSearchParams');
      const key = usv(name);
      const pair = [key, usv(value)];
      const index = state.list.findIndex(([n]) => n === key);
      if (index === -1) {
        state.list.push(pair);
      } else {
        state.list = state.list.filter(([n], i) => i <= index || n !== key);
        state.list[index] = pair;
      }
      updateSearchParams(state);
    }

    // Stable, by the UTF-16 code units of the names (which is how `<` compares strings).
    sort() {
      const state = stateOf(searchParams, this, 'URLSearchParams');
      state.list.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
      updateSearchParams(state);
    }

    forEach(callback, thisArg = undefined) {
      requireArgs(arguments.length, 1, 'URLSearchParams.forEach');
      const state = stateOf(searchParams, this, 'URLSearchParams');
      if (typeof callback !== 'function') throw new TypeError('URLSearchParams.forEach: the callback is not a function');
      for (let i = 0; i < state.list.length; i++) {
        const [name, value] = state.list[i];
        callback.call(thisArg, value, name, this);
      }
    }

    keys() { return searchParamsIterator(this, 'keys'); }
    values() { return searchParamsIterator(this, 'values'); }
    entries() { return searchParamsIterator(this, 'entries'); }

    toString() {
      return native.formSerialize(stateOf(searchParams, this, 'URLSearchParams').list);
    }
  }
  Object.defineProperty(URLSearchParams.prototype, Symbol.iterator, {
    value: URLSearchParams.prototype.entries, writable: true, configurable: true,
  });
  tag(URLSearchParams);

  // The iterators are live: they walk the list as it is at each step.
  const searchParamsIterators = new WeakMap();
  const SearchParamsIteratorPrototype = Object.create(
    Object.getPrototypeOf(Object.getPrototypeOf([][Symbol.iterator]())),
    {
      next: {
        value: function next() {
          const iteration = stateOf(searchParamsIterators, this, 'URLSearchParams Iterator');
          const list = searchParams.get(iteration.params).list;
          if (iteration.index >= list.length) return { value: undefined, done: true };
          const [name, value] = list[iteration.index++];
          const result = iteration.kind === 'keys' ? name : iteration.kind === 'values' ? value : [name, value];
          return { value: result, done: false };
        },
        writable: true, configurable: true,
      },
      [Symbol.toStringTag]: { value: 'URLSearchParams Iterator', configurable: true },
    },
  );

  function searchParamsIterator(params, kind) {
    stateOf(searchParams, params, 'URLSearchParams');
    const iterator = Object.create(SearchParamsIteratorPrototype);
    searchParamsIterators.set(iterator, { params, kind, index: 0 });
    return iterator;
  }

  install('URLSearchParams', URLSearchParams);

  // ---- URL ----------------------------------------------------------------

  // Per URL: { parts: the 11 components native.urlParse returns, query: its
  // URLSearchParams }.
  const urls = new WeakMap();
  const HREF = 0, ORIGIN = 1, PROTOCOL = 2, USERNAME = 3, PASSWORD = 4, HOST = 5;
  const HOSTNAME = 6, PORT = 7, PATHNAME = 8, SEARCH = 9, HASH = 10;

  function queryPairs(search) {
    return search === '' ? [] : native.formParse(search.slice(1));
  }

  function initURL(url, parts) {
    const query = new URLSearchParams();
    const state = { parts, query };
    const queryState = searchParams.get(query);
    queryState.list = queryPairs(parts[SEARCH]);
    queryState.url = state;
    urls.set(url, state);
    return url;
  }

  function parseURL(url, base) {
    return native.urlParse(usv(url), base === undefined ? undefined : usv(base));
  }

  // Applies one URL setter. `reparseQuery` is false when the change comes
  // from the URL's own URLSearchParams, whose list is already right.
  function setURLComponent(state, setter, value, reparseQuery) {
    const parts = native.urlSet(state.parts[HREF], setter, value);
    if (parts === null) throw new TypeError('Invalid URL');
    state.parts = parts;
    if (reparseQuery) searchParams.get(state.query).list = queryPairs(parts[SEARCH]);
  }

  function urlState(url) {
    return stateOf(urls, url, 'URL');
  }

  class URL {
    constructor(url, base = undefined) {
      requireArgs(arguments.length, 1, 'URL constructor');
      const parts = parseURL(url, base);
      if (parts === null) throw new TypeError('Invalid URL');
      initURL(this, parts);
    }

    static canParse(url, base = undefined) {
      requireArgs(arguments.length, 1, 'URL.canParse');
      return parseURL(url, base) !== null;
    }

    static parse(url, base = undefined) {
      requireArgs(arguments.length, 1, 'URL.parse');
      const parts = parseURL(url, base);
      return parts === null ? null : initURL(Object.create(URL.prototype), parts);
    }

    get href() { return urlState(this).parts[HREF]; }
    set href(value) { setURLComponent(urlState(this), 'href', usv(value), true); }
    get origin() { return urlState(this).parts[ORIGIN]; }
    get protocol() { return urlState(this).parts[PROTOCOL]; }
    set protocol(value) { setURLComponent(urlState(this), 'protocol', usv(value), false); }
    get username() { return urlState(this).parts[USERNAME]; }
    set username(value) { setURLComponent(urlState(this), 'username', usv(value), false); }
    get password() { return urlState(this).parts[PASSWORD]; }
    set password(value) { setURLComponent(urlState(this), 'password', usv(value), false); }
    get host() { return urlState(this).parts[HOST]; }
    set host(value) { setURLComponent(urlState(this), 'host', usv(value), false); }
    get hostname() { return urlState(this).parts[HOSTNAME]; }
    set hostname(value) { setURLComponent(urlState(this), 'hostname', usv(value), false); }
    get port() { return urlState(this).parts[PORT]; }
    set port(value) { setURLComponent(urlState(this), 'port', usv(value), false); }
    get pathname() { return urlState(this).parts[PATHNAME]; }
    set pathname(value) { setURLComponent(urlState(this), 'pathname', usv(value), false); }
    get search() { return urlState(this).parts[SEARCH]; }
    set search(value) { setURLComponent(urlState(this), 'search', usv(value), true); }
    get searchParams() { return urlState(this).query; }
    get hash() { return urlState(this).parts[HASH]; }
    set hash(value) { setURLComponent(urlState(this), 'hash', usv(value), false); }

    toString() { return urlState(this).parts[HREF]; }
    toJSON() { return urlState(this).parts[HREF]; }
  }
  tag(URL);

  install('URL', URL);

  // ---- TextEncoder and TextDecoder ----------------------------------------

  const typedArrayTag = Object.getOwnPropertyDescriptor(
    Object.getPrototypeOf(Uint8Array.prototype), Symbol.toStringTag,
  ).get;
  const arrayBufferByteLength = Object.getOwnPropertyDescriptor(ArrayBuffer.prototype, 'byteLength').get;

  function isArrayBuffer(value) {
    try {
      arrayBufferByteLength.call(value);
      return true;
    } catch (_) {
      return false;
    }
  }

  const textEncoders = new WeakSet();

  // Writes code point `cp` as UTF-8 at `at`; returns how many bytes it took.
  function writeUtf8(bytes, at, cp) {
    if (cp < 0x80) {
      bytes[at] = cp;
      return 1;
    }
    if (cp < 0x800) {
      bytes[at] = 0xc0 | (cp >> 6);
      bytes[at + 1] = 0x80 | (cp & 0x3f);
      return 2;
    }
    if (cp < 0x10000) {
      bytes[at] = 0xe0 | (cp >> 12);
      bytes[at + 1] = 0x80 | ((cp >> 6) & 0x3f);
      bytes[at + 2] = 0x80 | (cp & 0x3f);
      return 3;
    }
    bytes[at] = 0xf0 | (cp >> 18);
    bytes[at + 1] = 0x80 | ((cp >> 12) & 0x3f);
    bytes[at + 2] = 0x80 | ((cp >> 6) & 0x3f);
    bytes[at + 3] = 0x80 | (cp & 0x3f);
    return 4;
  }

  class TextEncoder {
    constructor() {
      textEncoders.add(this);
    }

    get encoding() {
      if (!textEncoders.has(this)) throw new TypeError('Illegal invocation: not a TextEncoder');
      return 'utf-8';
    }

    encode(input = '') {
      if (!textEncoders.has(this)) throw new TypeError('Illegal invocation: not a TextEncoder');
      return new Uint8Array(native.utf8Encode(`${input}`));
    }

    // Encodes as much of `source` as fits, never part of a character.
    encodeInto(source, destination) {
      requireArgs(arguments.length, 2, 'TextEncoder.encodeInto');
      if (!textEncoders.has(this)) throw new TypeError('Illegal invocation: not a TextEncoder');
      if (typedArrayTag.call(destination) !== 'Uint8Array') {
        throw new TypeError('TextEncoder.encodeInto: the destination is not a Uint8Array');
      }
      const text = `${source}`;
      const capacity = destination.length;
      let read = 0;
      let written = 0;
      while (read < text.length) {
        let cp = text.charCodeAt(read);
        let units = 1;
        if (cp >= 0xd800 && cp <= 0xdfff) {
          const next = text.charCodeAt(read + 1);
          if (cp <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
            cp = 0x10000 + ((cp - 0xd800) << 10) + (next - 0xdc00);
            units = 2;
          } else {
            cp = 0xfffd;
          }
        }
        const size = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
        if (written + size > capacity) break;
        written += writeUtf8(destination, written, cp);
        read += units;
      }
      return { read, written };
    }
  }
  tag(TextEncoder);

  const UTF8_LABELS = ['unicode-1-1-utf-8', 'unicode11utf8', 'unicode20utf8', 'utf-8', 'utf8', 'x-unicode20utf8'];
  const textDecoders = new WeakMap();

  // UTF-8 is the only encoding: the others would need their tables in the guest.
  class TextDecoder {
    constructor(label = 'utf-8', options = undefined) {
      const name = `${label}`.replace(/^[\t\n\f\r ]+|[\t\n\f\r ]+$/g, '').toLowerCase();
      if (!UTF8_LABELS.includes(name)) throw new RangeError(`TextDecoder: the "${label}" encoding is not supported`);
      const { fatal = false, ignoreBOM = false } = options ?? {};
      textDecoders.set(this, { fatal: Boolean(fatal), ignoreBOM: Boolean(ignoreBOM) });
    }

    get encoding() {
      stateOf(textDecoders, this, 'TextDecoder');
      return 'utf-8';
    }

    get fatal() { return stateOf(textDecoders, this, 'TextDecoder').fatal; }
    get ignoreBOM() { return stateOf(textDecoders, this, 'TextDecoder').ignoreBOM; }

    decode(input = undefined, options = undefined) {
      const state = stateOf(textDecoders, this, 'TextDecoder');
      if (options?.stream) throw new TypeError('TextDecoder.decode: streaming decode is not supported');
      let buffer;
      if (input === undefined) {
        buffer = new ArrayBuffer(0);
      } else if (isArrayBuffer(input)) {
        buffer = input;
      } else if (ArrayBuffer.isView(input)) {
        // Only the view's bytes, copied into a plain ArrayBuffer.
        buffer = new Uint8Array(input.buffer, input.byteOffset, input.byteLength).slice().buffer;
      } else {
        throw new TypeError('TextDecoder.decode: the input is not an ArrayBuffer or ArrayBufferView');
      }
      const text = native.utf8Decode(buffer, state.fatal);
      return !state.ignoreBOM && text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
    }
  }
  tag(TextDecoder);

  install('TextEncoder', TextEncoder);
  install('TextDecoder', TextDecoder);

  // ---- atob and btoa ------------------------------------------------------

  function invalidCharacter(message) {
    return new DOMException(message, 'InvalidCharacterError');
  }

  function atob(data) {
    requireArgs(arguments.length, 1, 'atob');
    const buffer = native.base64Decode(`${data}`);
    if (buffer === null) throw invalidCharacter('The string to be decoded is not correctly encoded.');
    const bytes = new Uint8Array(buffer);
    let binary = '';
    for (let i = 0; i < bytes.length; i += 0x2000) {
      binary += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x2000));
    }
    return binary;
  }

  function btoa(data) {
    requireArgs(arguments.length, 1, 'btoa');
    const text = `${data}`;
    const bytes = new Uint8Array(text.length);
    for (let i = 0; i < text.length; i++) {
      const unit = text.charCodeAt(i);
      if (unit > 0xff) throw invalidCharacter('The string to be encoded contains characters outside of the Latin1 range.');
      bytes[i] = unit;
    }
    return native.base64Encode(bytes.buffer);
  }

  install('atob', atob);
  install('btoa', btoa);

  // ---- structuredClone ----------------------------------------------------

  const ERROR_TYPES = { Error, EvalError, RangeError, ReferenceError, SyntaxError, TypeError, URIError };
  const TYPED_ARRAYS = new Map(
    ['Int8Array', 'Uint8Array', 'Uint8ClampedArray', 'Int16Array', 'Uint16Array', 'Int32Array', 'Uint32Array',
      'Float16Array', 'Float32Array', 'Float64Array', 'BigInt64Array', 'BigUint64Array']
      .filter((name) => typeof globalThis[name] === 'function')
      .map((name) => [name, globalThis[name]]),
  );
  // Boolean, Number, String and BigInt objects, told apart by their valueOf.
  const BOX_VALUE_OF = [Boolean, Number, String, BigInt].map((Type) => Type.prototype.valueOf);
  const dateGetTime = Date.prototype.getTime;
  const regExpSource = Object.getOwnPropertyDescriptor(RegExp.prototype, 'source').get;
  const mapSize = Object.getOwnPropertyDescriptor(Map.prototype, 'size').get;
  const setSize = Object.getOwnPropertyDescriptor(Set.prototype, 'size').get;
  const dataViewByteLength = Object.getOwnPropertyDescriptor(DataView.prototype, 'byteLength').get;

  // Whether `getter` accepts `value` as its receiver (a brand check).
  function hasBrand(getter, value) {
    try {
      getter.call(value);
      return true;
    } catch (_) {
      return false;
    }
  }

  function dataCloneError(value) {
    const what = typeof value === 'function' ? `function ${value.name || 'anonymous'}`
      : typeof value === 'symbol' ? value.toString()
        : `#<${Object.prototype.toString.call(value).slice(8, -1)}>`;
    return new DOMException(`${what} could not be cloned.`, 'DataCloneError');
  }

  // Own enumerable string-keyed properties, as the spec serializes them.
  function cloneProperties(source, target, memory) {
    for (const key of Object.keys(source)) {
      if (!Object.prototype.hasOwnProperty.call(source, key)) continue;
      const value = cloneValue(source[key], memory);
      Object.defineProperty(target, key, { value, writable: true, enumerable: true, configurable: true });
    }
  }

  function cloneError(error) {
    const name = error.name;
    const Type = Object.prototype.hasOwnProperty.call(ERROR_TYPES, name) ? ERROR_TYPES[name] : Error;
    const message = Object.getOwnPropertyDescriptor(error, 'message');
    const copy = message !== undefined && 'value' in message ? new Type(`${message.value}`) : new Type();
    const stack = Object.getOwnPropertyDescriptor(error, 'stack');
    if (stack !== undefined && typeof stack.value === 'string') {
      Object.defineProperty(copy, 'stack', { value: stack.value, writable: true, configurable: true });
    }
    return copy;
  }

  // The clone of an object, registered in `memory` before its contents are
  // cloned so that cycles and shared references come out the same.
  function cloneObject(value, memory) {
    const remember = (copy) => {
      memory.set(value, copy);
      return copy;
    };
    for (const valueOf of BOX_VALUE_OF) {
      if (hasBrand(valueOf, value)) return remember(Object(valueOf.call(value)));
    }
    if (hasBrand(dateGetTime, value)) return remember(new Date(dateGetTime.call(value)));
    if (value !== RegExp.prototype && hasBrand(regExpSource, value)) return remember(new RegExp(value));
    if (isArrayBuffer(value)) return remember(ArrayBuffer.prototype.slice.call(value, 0));
    const typedArray = typedArrayTag.call(value);
    if (typedArray !== undefined) {
      const buffer = cloneValue(value.buffer, memory);
      return remember(new (TYPED_ARRAYS.get(typedArray))(buffer, value.byteOffset, value.length));
    }
    if (hasBrand(dataViewByteLength, value)) {
      const buffer = cloneValue(value.buffer, memory);
      return remember(new DataView(buffer, value.byteOffset, value.byteLength));
    }
    if (hasBrand(mapSize, value)) {
      const copy = remember(new Map());
      for (const [k, v] of [...Map.prototype.entries.call(value)]) copy.set(cloneValue(k, memory), cloneValue(v, memory));
      return copy;
    }
    if (hasBrand(setSize, value)) {
      const copy = remember(new Set());
      for (const v of [...Set.prototype.values.call(value)]) copy.add(cloneValue(v, memory));
      return copy;
    }
    if (domExceptions.has(value)) return remember(new DOMException(value.message, value.name));
    if (value instanceof Error) return remember(cloneError(value));
    if (Array.isArray(value)) {
      const copy = remember(new Array(value.length));
      cloneProperties(value, copy, memory);
      return copy;
    }
    // Built-in and host objects with internal state (Promise, WeakMap,
    // iterators, URL, AbortSignal, ...) all carry a Symbol.toStringTag;
    // plain objects and class instances do not.
    if (Symbol.toStringTag in value) throw dataCloneError(value);
    const copy = remember({});
    cloneProperties(value, copy, memory);
    return copy;
  }

  function cloneValue(value, memory) {
    if (typeof value === 'symbol' || typeof value === 'function') throw dataCloneError(value);
    if (typeof value !== 'object' || value === null) return value;
    return memory.has(value) ? memory.get(value) : cloneObject(value, memory);
  }

  // `options.transfer` is accepted and ignored: nothing here can be detached,
  // so transferred ArrayBuffers are copied and stay usable in the original.
  function structuredClone(value, options = undefined) {
    requireArgs(arguments.length, 1, 'structuredClone');
    if (options !== undefined && options !== null && typeof options !== 'object') {
      throw new TypeError('structuredClone: options must be an object');
    }
    return cloneValue(value, new Map());
  }

  install('structuredClone', structuredClone);
})
