/**
 * The shipped model: `model/ocr.onnx` and its metadata `model/ocr.json`, both written by
 * training/train.py. The metadata is the one place the charset and input size are recorded.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { INPUT_HEIGHT, INPUT_WIDTH } from './preprocess.js';

export interface ModelInfo {
  readonly path: string;
  readonly charset: string;
  readonly inputHeight: number;
  readonly inputWidth: number;
}

/** The model directory inside this package (dist/src/ → ../../model). */
export const DEFAULT_MODEL_DIR = fileURLToPath(new URL('../../model/', import.meta.url));

/** What a model's ocr.json says about how it was made, for operators (the dashboard). */
export interface ModelCard {
  /** The model's folder, or `shipped`. */
  readonly dir: string;
  readonly architecture?: string;
  readonly steps?: number;
  readonly seconds?: number;
  /** When ocr.json was written (epoch ms): when the model was trained or adapted. */
  readonly madeAt: number;
  /** Validation accuracy per source, ignoring case, as training measured it. */
  readonly validation: Readonly<Record<string, number>>;
  /** An adapted model's report.json: accuracy per source before and after adapting. */
  readonly adapted?: { readonly before: Readonly<Record<string, number>>; readonly after: Readonly<Record<string, number>> };
}

export function modelCard(dir: string = DEFAULT_MODEL_DIR): ModelCard {
  const metaPath = `${dir.replace(/\/$/, '')}/ocr.json`;
  const meta = JSON.parse(readFileSync(metaPath, 'utf8')) as {
    training?: { architecture?: string; steps?: number; seconds?: number; validation?: Record<string, { caseInsensitive?: number }> };
  };
  const training = meta.training ?? {};
  const reportPath = `${dir.replace(/\/$/, '')}/report.json`;
  const adapted = existsSync(reportPath) ? (JSON.parse(readFileSync(reportPath, 'utf8')) as NonNullable<ModelCard['adapted']>) : undefined;
  return {
    dir: dir === DEFAULT_MODEL_DIR ? 'shipped' : dir,
    ...(training.architecture ? { architecture: training.architecture } : {}),
    ...(training.steps !== undefined ? { steps: training.steps } : {}),
    ...(training.seconds !== undefined ? { seconds: training.seconds } : {}),
    madeAt: statSync(metaPath).mtimeMs,
    validation: Object.fromEntries(Object.entries(training.validation ?? {}).map(([source, v]) => [source, v.caseInsensitive ?? 0])),
    ...(adapted ? { adapted: { before: adapted.before, after: adapted.after } } : {}),
  };
}

export function loadModelInfo(dir: string = DEFAULT_MODEL_DIR): ModelInfo {
  const metaPath = `${dir.replace(/\/$/, '')}/ocr.json`;
  const meta = JSON.parse(readFileSync(metaPath, 'utf8')) as Partial<ModelInfo> & { blank?: number };
  if (typeof meta.charset !== 'string' || meta.charset.length === 0) throw new Error(`${metaPath} has no charset`);
  if (meta.blank !== 0) throw new Error(`${metaPath}: the CTC blank must be class 0`);
  if (meta.inputHeight !== INPUT_HEIGHT || meta.inputWidth !== INPUT_WIDTH) {
    throw new Error(`${metaPath} expects ${meta.inputWidth}×${meta.inputHeight} input, but preprocessing makes ${INPUT_WIDTH}×${INPUT_HEIGHT}`);
  }
  return { path: `${dir.replace(/\/$/, '')}/ocr.onnx`, charset: meta.charset, inputHeight: INPUT_HEIGHT, inputWidth: INPUT_WIDTH };
}
