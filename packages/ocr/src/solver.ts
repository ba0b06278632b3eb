/**
 * The OCR backend as a Solvebox solver: image tasks in, text out, through the worker pool.
 * - an image the decoder refuses ends the task at once (ERROR_CAPTCHA_UNSOLVABLE, final);
 * - a reading the model doubts (below `minConfidence`, after second looks), or hints it cannot
 *   honour, is declined: the runner hands the task to the fallback solver, or ends it;
 * - a crashed or stuck worker is a backend fault: the runner retries and counts it for its circuit.
 */
import { SolverDeclined, SolverFailure, type Solution, type SolveContext, type Solver, type Task } from '@solvebox/protocol';
import { DEFAULT_MIN_CONFIDENCE } from './defaults.js';
import { DEFAULT_MODEL_DIR, modelCard, type ModelCard } from './model.js';
import { ImageRejected, RecognizerPool, type PoolOptions } from './pool.js';
import type { Recognition } from './recognizer.js';

export interface OcrSolverOptions extends PoolOptions {
  /** Readings less likely than this are declined. @defaultValue 0.35 */
  readonly minConfidence?: number;
}

/** The model a solver reads with, and since when. */
export interface LiveModel extends ModelCard {
  readonly loadedAt: number;
}

export class OcrSolver implements Solver {
  readonly name = 'ocr';
  readonly types = ['image'] as const;
  private pool: RecognizerPool;
  private live: LiveModel;
  /** Reads in progress per pool, so that a replaced pool closes once its last read is done. */
  private readonly reading = new Map<RecognizerPool, number>();
  private reloading: Promise<LiveModel> | undefined;

  private constructor(
    pool: RecognizerPool,
    private readonly options: OcrSolverOptions,
    private readonly minConfidence: number,
  ) {
    this.pool = pool;
    this.live = { ...modelCard(options.modelDir ?? DEFAULT_MODEL_DIR), loadedAt: Date.now() };
  }

  static async start(options: OcrSolverOptions = {}): Promise<OcrSolver> {
    return new OcrSolver(await RecognizerPool.start(options), options, options.minConfidence ?? DEFAULT_MIN_CONFIDENCE);
  }

  /** Two tasks per worker: one being read, one decoded and waiting, so that no worker idles between tasks. */
  get concurrency(): number {
    return this.pool.size * 2;
  }

  /** The model in use. */
  get model(): LiveModel {
    return this.live;
  }

  /**
   * Loads the model folder again (it may hold a new model: an adapted one, or a rollback) into a
   * new pool, and switches to it: reads from then on use the new pool, reads in progress finish on
   * the old one, which closes after them. Nothing is dropped. A model that fails to load leaves the
   * current one in use, and the error is thrown.
   */
  reload(): Promise<LiveModel> {
    this.reloading ??= (async () => {
      try {
        const next = await RecognizerPool.start(this.options);
        const card = { ...modelCard(this.options.modelDir ?? DEFAULT_MODEL_DIR), loadedAt: Date.now() };
        const previous = this.pool;
        this.pool = next;
        this.live = card;
        if (!this.reading.get(previous)) await previous.close();
        return card;
      } finally {
        this.reloading = undefined;
      }
    })();
    return this.reloading;
  }

  async solve(task: Task, ctx: SolveContext): Promise<Solution> {
    if (task.spec.type !== 'image') throw new Error(`the OCR solver cannot solve ${task.spec.type} tasks`);
    let recognition: Recognition;
    const pool = this.pool;
    this.reading.set(pool, (this.reading.get(pool) ?? 0) + 1);
    try {
      recognition = await pool.recognize(task.spec.image, task.spec.hints, ctx.signal);
    } catch (err) {
      if (err instanceof ImageRejected) throw new SolverFailure('ERROR_CAPTCHA_UNSOLVABLE', err.message, true);
      throw err;
    } finally {
      const left = (this.reading.get(pool) ?? 1) - 1;
      if (left > 0) this.reading.set(pool, left);
      else {
        this.reading.delete(pool);
        // The last read of a pool a reload replaced: close it now.
        if (pool !== this.pool) void pool.close();
      }
    }
    if ('reason' in recognition) {
      throw new SolverDeclined(recognition.reason === 'unsupported-language' ? 'the model reads Latin letters and digits only' : 'no reading fits the hints');
    }
    ctx.confidence?.(recognition.confidence);
    if (recognition.confidence < this.minConfidence) {
      throw new SolverDeclined(`the best reading has probability ${recognition.confidence.toFixed(3)}, below ${this.minConfidence}`);
    }
    return { kind: 'text', text: recognition.text };
  }

  async close(): Promise<void> {
    await this.reloading?.catch(() => {});
    await this.pool.close();
  }
}
