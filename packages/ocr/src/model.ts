/**
 * The shipped model: `model/ocr.onnx` and its metadata `model/ocr.json`, both written by
 * training/train.py. The metadata is the one place the charset and input size are recorded.
 */
import { readFileSync } from 'node:fs';
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
