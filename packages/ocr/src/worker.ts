/**
 * A pool worker thread: one Recognizer, one image at a time. Messages in: a Job; out: a JobResult.
 * Image errors are answers, not crashes: the worker lives on to read the next image.
 */
import type { ImageHints } from '@solvebox/protocol';
import { parentPort, workerData } from 'node:worker_threads';
import type { ModelInfo } from './model.js';
import { ImageError } from './preprocess.js';
import { Recognizer, type RecognizeOptions, type Recognition } from './recognizer.js';

export interface WorkerSetup {
  readonly model: ModelInfo;
  readonly options: RecognizeOptions;
}

export interface Job {
  readonly id: number;
  readonly image: Uint8Array;
  readonly hints: ImageHints;
}

export type JobResult =
  | { readonly id: number; readonly ok: true; readonly recognition: Recognition }
  | { readonly id: number; readonly ok: false; readonly kind: 'image' | 'internal'; readonly message: string };

const setup = workerData as WorkerSetup;
const port = parentPort;
if (!port) throw new Error('worker.js runs as a worker thread');

const recognizer = await Recognizer.create(setup.model);
port.on('message', (job: Job) => {
  recognizer.recognize(job.image, job.hints, setup.options).then(
    (recognition) => port.postMessage({ id: job.id, ok: true, recognition } satisfies JobResult),
    (err: unknown) =>
      port.postMessage({
        id: job.id,
        ok: false,
        kind: err instanceof ImageError ? 'image' : 'internal',
        message: err instanceof Error ? err.message : String(err),
      } satisfies JobResult),
  );
});
port.postMessage('ready');
