/**
 * The OCR backend as a Solvebox solver: image tasks in, text out, through the worker pool.
 * - an image the decoder refuses ends the task at once (ERROR_CAPTCHA_UNSOLVABLE, final);
 * - a reading the model doubts (below `minConfidence`, after second looks), or hints it cannot
 *   honour, is declined: the runner hands the task to the fallback solver, or ends it;
 * - a crashed or stuck worker is a backend fault: the runner retries and counts it for its circuit.
 */
import { SolverDeclined, SolverFailure, type Solution, type SolveContext, type Solver, type Task } from '@solvebox/protocol';
import { DEFAULT_MIN_CONFIDENCE } from './defaults.js';
import { ImageRejected, RecognizerPool, type PoolOptions } from './pool.js';
import type { Recognition } from './recognizer.js';

export interface OcrSolverOptions extends PoolOptions {
  /** Readings less likely than this are declined. @defaultValue 0.35 */
  readonly minConfidence?: number;
}

export class OcrSolver implements Solver {
  readonly name = 'ocr';
  readonly types = ['image'] as const;

  private constructor(
    private readonly pool: RecognizerPool,
    private readonly minConfidence: number,
  ) {}

  static async start(options: OcrSolverOptions = {}): Promise<OcrSolver> {
    return new OcrSolver(await RecognizerPool.start(options), options.minConfidence ?? DEFAULT_MIN_CONFIDENCE);
  }

  /** Two tasks per worker: one being read, one decoded and waiting, so that no worker idles between tasks. */
  get concurrency(): number {
    return this.pool.size * 2;
  }

  async solve(task: Task, ctx: SolveContext): Promise<Solution> {
    if (task.spec.type !== 'image') throw new Error(`the OCR solver cannot solve ${task.spec.type} tasks`);
    let recognition: Recognition;
    try {
      recognition = await this.pool.recognize(task.spec.image, task.spec.hints, ctx.signal);
    } catch (err) {
      if (err instanceof ImageRejected) throw new SolverFailure('ERROR_CAPTCHA_UNSOLVABLE', err.message, true);
      throw err;
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
    await this.pool.close();
  }
}
