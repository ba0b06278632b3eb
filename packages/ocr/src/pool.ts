/**
 * A pool of worker threads, each with its own onnxruntime session, so that decoding and inference
 * never run on the API's event loop. One image per worker at a time; the rest wait in a queue.
 * A worker that crashes or takes longer than `jobTimeoutMs` is replaced, and only its own image
 * fails: one bad image can neither take the pool down nor stall it.
 */
import type { ImageHints } from '@solvebox/protocol';
import { DEFAULT_SECOND_LOOK } from './defaults.js';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { loadModelInfo, type ModelInfo } from './model.js';
// sharp must be loaded by the main thread before any worker loads it: on glibc Linux its shared
// libraries must outlive every thread that used them (sharp's documentation on worker threads).
import './preprocess.js';
import type { Recognition, RecognizeOptions } from './recognizer.js';
import type { Job, JobResult, WorkerSetup } from './worker.js';

export interface PoolOptions extends Partial<RecognizeOptions> {
  /** Worker threads. @defaultValue the number of CPUs */
  readonly size?: number;
  /** A folder holding ocr.onnx and ocr.json. @defaultValue the model shipped in this package */
  readonly modelDir?: string;
  /** A worker that has not answered within this long is replaced. @defaultValue 10 000 */
  readonly jobTimeoutMs?: number;
}

/** The image could not be decoded (truncated, corrupt, too many pixels). Not worth another attempt. */
export class ImageRejected extends Error {
  override readonly name = 'ImageRejected';
}

/** The pool failed this job (a worker crashed or timed out, or the pool is closed). Another attempt may work. */
export class PoolError extends Error {
  override readonly name = 'PoolError';
}

interface Pending {
  readonly job: Job;
  resolve(recognition: Recognition): void;
  reject(err: Error): void;
  readonly signal?: AbortSignal;
  readonly onAbort?: () => void;
}

interface Slot {
  worker: Worker;
  ready: boolean;
  current?: Pending;
  timer?: NodeJS.Timeout;
}

const WORKER_URL = new URL('./worker.js', import.meta.url);

export class RecognizerPool {
  private readonly slots: Slot[] = [];
  private readonly queue: Pending[] = [];
  private nextId = 1;
  private closed = false;
  private readonly setup: WorkerSetup;
  private readonly jobTimeoutMs: number;

  private constructor(model: ModelInfo, options: PoolOptions) {
    this.setup = { model, options: { secondLookBelow: options.secondLookBelow ?? DEFAULT_SECOND_LOOK } };
    this.jobTimeoutMs = options.jobTimeoutMs ?? 10_000;
  }

  /** Starts the workers and waits until each has loaded the model, so that a missing or broken model fails here. */
  static async start(options: PoolOptions = {}): Promise<RecognizerPool> {
    const pool = new RecognizerPool(loadModelInfo(options.modelDir), options);
    const size = Math.max(1, options.size ?? availableParallelism());
    try {
      await Promise.all(Array.from({ length: size }, () => pool.addSlot()));
    } catch (err) {
      await pool.close();
      throw err;
    }
    return pool;
  }

  get size(): number {
    return this.slots.length;
  }

  recognize(image: Uint8Array, hints: ImageHints, signal?: AbortSignal): Promise<Recognition> {
    if (this.closed) return Promise.reject(new PoolError('the OCR pool is closed'));
    if (signal?.aborted) return Promise.reject(signal.reason instanceof Error ? signal.reason : new PoolError('aborted'));
    return new Promise<Recognition>((resolve, reject) => {
      const job: Job = { id: this.nextId++, image: ownBytes(image), hints };
      const onAbort = signal
        ? (): void => {
            // Only a queued job can be withdrawn; one a worker has started finishes and is ignored.
            const index = this.queue.indexOf(pending);
            if (index >= 0) this.queue.splice(index, 1);
            reject(signal.reason instanceof Error ? signal.reason : new PoolError('aborted'));
          }
        : undefined;
      const pending: Pending = { job, resolve, reject, ...(signal ? { signal } : {}), ...(onAbort ? { onAbort } : {}) };
      signal?.addEventListener('abort', onAbort!, { once: true });
      this.queue.push(pending);
      this.dispatch();
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const pending of this.queue.splice(0)) this.settle(pending, new PoolError('the OCR pool is closed'));
    await Promise.all(
      this.slots.map(async (slot) => {
        clearTimeout(slot.timer);
        if (slot.current) this.settle(slot.current, new PoolError('the OCR pool is closed'));
        await slot.worker.terminate();
      }),
    );
  }

  private addSlot(): Promise<void> {
    const slot = { ready: false } as Slot;
    this.slots.push(slot);
    return this.spawn(slot);
  }

  private spawn(slot: Slot): Promise<void> {
    return new Promise((resolve, reject) => {
      const worker = new Worker(WORKER_URL, { workerData: this.setup });
      slot.worker = worker;
      slot.ready = false;
      worker.on('message', (message: JobResult | 'ready') => {
        if (slot.worker !== worker) return;
        if (message === 'ready') {
          slot.ready = true;
          resolve();
          this.dispatch();
        } else {
          this.finish(slot, message);
        }
      });
      worker.on('error', (err) => {
        if (slot.worker !== worker) return;
        if (!slot.ready) reject(err);
        else this.replace(slot, `an OCR worker crashed: ${err.message}`);
      });
      worker.on('exit', (code) => {
        if (slot.worker !== worker || this.closed) return;
        if (!slot.ready) reject(new Error(`an OCR worker exited with code ${code} while starting`));
        else this.replace(slot, `an OCR worker exited with code ${code}`);
      });
    });
  }

  /** Fails the slot's current job, and puts a fresh worker in the slot. */
  private replace(slot: Slot, why: string): void {
    clearTimeout(slot.timer);
    const current = slot.current;
    slot.current = undefined;
    if (current) this.settle(current, new PoolError(why));
    const old = slot.worker;
    slot.ready = false;
    if (this.closed) return;
    void old.terminate();
    this.spawn(slot).catch(() => {
      // The model loaded before, so this is transient (memory, threads): try again shortly.
      setTimeout(() => this.replace(slot, 'an OCR worker failed to restart'), 1000).unref();
    });
  }

  private dispatch(): void {
    for (const slot of this.slots) {
      if (this.queue.length === 0) return;
      if (!slot.ready || slot.current) continue;
      const pending = this.queue.shift()!;
      slot.current = pending;
      slot.timer = setTimeout(() => this.replace(slot, `an OCR worker took longer than ${this.jobTimeoutMs} ms`), this.jobTimeoutMs);
      slot.worker.postMessage(pending.job);
    }
  }

  private finish(slot: Slot, result: JobResult): void {
    const current = slot.current;
    if (!current || current.job.id !== result.id) return;
    clearTimeout(slot.timer);
    slot.current = undefined;
    if (result.ok) this.settle(current, undefined, result.recognition);
    else this.settle(current, result.kind === 'image' ? new ImageRejected(result.message) : new PoolError(result.message));
    this.dispatch();
  }

  private settle(pending: Pending, err: Error | undefined, recognition?: Recognition): void {
    if (pending.onAbort) pending.signal?.removeEventListener('abort', pending.onAbort);
    if (err) pending.reject(err);
    else pending.resolve(recognition!);
  }
}

/**
 * postMessage copies a typed array's whole backing buffer, not just its view: a view into a large
 * request body or file would cost megabytes per image (it made a benchmark 6 times slower). So
 * send exactly the image's bytes. Not `image.slice()`: on a Buffer that is another view.
 */
export function ownBytes(image: Uint8Array): Uint8Array {
  return image.byteOffset === 0 && image.byteLength === image.buffer.byteLength ? image : new Uint8Array(image);
}
