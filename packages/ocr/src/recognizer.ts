/**
 * One recogniser: an onnxruntime session and a Reader. It runs inside a pool worker (worker.ts),
 * and in-process in tests that compare Node's output with PyTorch's.
 */
import type { ImageHints } from '@solvebox/protocol';
import * as ort from 'onnxruntime-node';
import type { FrameScores } from './decode.js';
import type { ModelInfo } from './model.js';
import { decode, preprocess, SECOND_LOOKS, secondLook, type Variant } from './preprocess.js';
import { Reader, type Answer, type NoAnswer } from './read.js';

export interface RecognizeOptions {
  /** Below this confidence the image is looked at again with other preprocessing. */
  readonly secondLookBelow: number;
}

export type Recognition = (Answer & { readonly variant: Variant }) | (NoAnswer & { readonly confidence: 0 });

export class Recognizer {
  private readonly reader: Reader;

  private constructor(
    private readonly session: ort.InferenceSession,
    private readonly info: ModelInfo,
  ) {
    this.reader = new Reader(info.charset);
  }

  static async create(info: ModelInfo): Promise<Recognizer> {
    // One thread per session: the pool gets its parallelism from workers, one image each.
    const session = await ort.InferenceSession.create(info.path, {
      executionProviders: ['cpu'],
      intraOpNumThreads: 1,
      interOpNumThreads: 1,
      executionMode: 'sequential',
      graphOptimizationLevel: 'all',
    });
    return new Recognizer(session, info);
  }

  /** The model's scores for preprocessed pixels. */
  async scores(pixels: Uint8Array): Promise<FrameScores> {
    const input = new ort.Tensor('float32', Float32Array.from(pixels), [1, 1, this.info.inputHeight, this.info.inputWidth]);
    const output = await this.session.run({ pixels: input });
    const logprobs = output.logprobs;
    if (logprobs?.dims.length !== 3) throw new Error('the model did not return logprobs');
    return { data: logprobs.data as Float32Array, frames: Number(logprobs.dims[1]), classes: Number(logprobs.dims[2]) };
  }

  /**
   * Reads an image. A reading below `secondLookBelow` confidence gets second looks with the other
   * preprocessing variants (the image decoded once for all of them), and the most confident
   * reading wins.
   */
  async recognize(image: Uint8Array, hints: ImageHints, options: RecognizeOptions): Promise<Recognition> {
    let best = await this.recognition(await preprocess(image), hints, 'plain');
    if (best.confidence >= options.secondLookBelow || ('reason' in best && best.reason === 'unsupported-language')) return best;
    const decoded = await decode(image);
    for (const variant of SECOND_LOOKS) {
      const recognition = await this.recognition(await secondLook(decoded, variant), hints, variant);
      if (recognition.confidence > best.confidence) best = recognition;
      if (best.confidence >= options.secondLookBelow) break;
    }
    return best;
  }

  private async recognition(pixels: Uint8Array, hints: ImageHints, variant: Variant): Promise<Recognition> {
    const answer = this.reader.read(await this.scores(pixels), hints);
    return 'reason' in answer ? { ...answer, confidence: 0 } : { ...answer, variant };
  }

  async close(): Promise<void> {
    await this.session.release();
  }
}
