// The page's side of the TypeScript worker (ts-worker.js, embedded in app.js
// as a string and started from a Blob URL so the bundle stays three files).
import workerSource from 'virtual:ts-worker-source';

export class TsClient {
  constructor() {
    this.nextId = 1;
    this.pending = new Map();
    this.ready = false;
    this.failed = null;
    try {
      const url = URL.createObjectURL(new Blob([workerSource], { type: 'text/javascript' }));
      this.worker = new Worker(url);
      this.worker.onmessage = (event) => this.onMessage(event.data);
      this.worker.onerror = (event) => {
        this.failed = event.message || 'the TypeScript worker failed';
        for (const { reject } of this.pending.values()) reject(new Error(this.failed));
        this.pending.clear();
      };
    } catch (error) {
      this.failed = String(error);
      this.worker = null;
    }
  }

  onMessage({ id, result, error }) {
    if (id === 0) {
      this.ready = true;
      return;
    }
    const entry = this.pending.get(id);
    if (!entry) return;
    this.pending.delete(id);
    if (error !== undefined) entry.reject(new Error(error));
    else entry.resolve(result);
  }

  /** Sends one operation to the worker; resolves with its result. */
  request(op, args) {
    if (!this.worker) return Promise.reject(new Error(this.failed ?? 'no TypeScript worker'));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ id, op, ...args });
    });
  }
}
