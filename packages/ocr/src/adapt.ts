/**
 * Adapting the OCR model to a deployment's own captchas (`solvebox ocr adapt`): fine-tunes a model
 * on labelled samples mixed with replay from our renderer and sources, so that it learns the new
 * family without forgetting the others, on this machine's CPU with Debian's python3-torch. It
 * validates on a held-out fifth of the samples and on our sources, and refuses a model whose
 * accuracy on our sources falls by more than `maxDrop`.
 *
 * This module drives training/make-dataset.mjs and training/train.py; it loads no inference engine.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_MODEL_DIR } from './model.js';

const TRAINING_DIR = fileURLToPath(new URL('../../training/', import.meta.url));
/**
 * Our sources, replayed so that adapting keeps what the model reads, and validated on for the
 * rule that refuses a model that reads them worse: the seven third-party generators the shipped
 * model was trained and validated on. Not our own renderer: it has grown since the shipped model
 * was trained (which read it at 72 %, and reads today's output at 42 %), so replaying it taught the
 * model a new distribution while it adapted, and its readings, the least settled of all, swung by
 * up to ten points within a hundred steps.
 */
const REPLAY_SOURCES = ['svg-captcha-easy', 'svg-captcha-hard', 'trek-captcha', 'captchapng', 'node-captcha-generator', 'haileybot', 'captcha-canvas'];

export interface AdaptOptions {
  /** A folder with the samples: `labels.tsv` (file TAB answer) and the images. */
  readonly samplesDir: string;
  /** Where the adapted model (ocr.onnx, ocr.json, ocr.pt) and report.json go. */
  readonly out: string;
  /** The whole run's length: rendering the replay, training, validating and export. */
  readonly minutes: number;
  /** The model to start from (a folder with ocr.pt); the shipped one by default. */
  readonly from?: string;
  /** Images of each of our sources replayed in training (and a quarter as many validated on). @defaultValue 1000 */
  readonly replayPerSource?: number;
  /** The largest fall of the mean accuracy over our sources that is accepted. @defaultValue 0.01 */
  readonly maxDrop?: number;
  /** The samples' weight in a batch, where our seven sources' weights add up to 0.64 (train.py's --weights samples=W): 1 makes them 61 % of it. @defaultValue 1 */
  readonly samplesWeight?: number;
  /**
   * Weight of distillation from the starting model on replayed images (train.py's --distill): it
   * is what keeps our sources within the allowed fall (django-simple-captcha, 1 000 samples, 30
   * minutes: -0.6 points with 0.5 and the samples at weight 1, -2.0 without). @defaultValue 0.5
   */
  readonly distill?: number;
  /** Peak learning rate. @defaultValue 3e-4 */
  readonly learningRate?: number;
  /** Each line the training prints, as it prints it. */
  readonly onLine?: (line: string) => void;
  readonly python?: string;
}

/** Accuracy (ignoring case) per validation source, before and after. */
export interface AdaptReport {
  readonly before: Readonly<Record<string, number>>;
  readonly after: Readonly<Record<string, number>>;
  readonly ourSourcesBefore: number;
  readonly ourSourcesAfter: number;
  readonly steps: number;
  readonly seconds: number;
}

export class AdaptError extends Error {
  override readonly name = 'AdaptError';
  constructor(
    readonly reason: 'missing-torch' | 'missing-training-setup' | 'refused' | 'failed',
    message: string,
    readonly report?: AdaptReport,
  ) {
    super(message);
  }
}

/** Debian's python3 first: its torch is the one `apt install python3-torch` provides. */
function pickPython(): string {
  return existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
}

/** Why adapting cannot run here, or undefined when it can. */
export function adaptPrerequisites(python = pickPython()): AdaptError | undefined {
  if (spawnSync(python, ['-c', 'import torch, onnx'], { stdio: 'ignore' }).status !== 0) {
    return new AdaptError(
      'missing-torch',
      `adapting needs PyTorch and ONNX for ${python}: on Debian, sudo apt-get install python3-torch python3-onnx (packages/ocr/training/setup.sh installs them with the rest)`,
    );
  }
  if (!existsSync(join(TRAINING_DIR, 'node_modules', 'svg-captcha'))) {
    return new AdaptError(
      'missing-training-setup',
      `adapting replays our own sources, whose generators are not installed: run ${join(TRAINING_DIR, 'setup.sh')} once`,
    );
  }
  return undefined;
}

function run(command: string, args: readonly string[], onLine: (line: string) => void): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: TRAINING_DIR, stdio: ['ignore', 'pipe', 'pipe'] });
    let pending = '';
    const lines = (chunk: Buffer) => {
      pending += chunk.toString();
      const parts = pending.split('\n');
      pending = parts.pop() ?? '';
      for (const line of parts) if (line.trim() !== '') onLine(line);
    };
    child.stdout.on('data', lines);
    child.stderr.on('data', lines);
    child.on('error', reject);
    child.on('close', (code) => {
      if (pending.trim() !== '') onLine(pending);
      resolve(code ?? 1);
    });
  });
}

export async function adaptModel(options: AdaptOptions): Promise<AdaptReport> {
  const python = options.python ?? pickPython();
  const missing = adaptPrerequisites(python);
  if (missing) throw missing;
  const onLine = options.onLine ?? (() => {});
  const from = options.from ?? DEFAULT_MODEL_DIR;
  if (!existsSync(join(from, 'ocr.pt'))) throw new AdaptError('failed', `${from} has no ocr.pt (the weights training starts from)`);
  const replay = options.replayPerSource ?? 1000;
  // The operator's minutes cover the whole run: rendering the replay, training, validating, export.
  const deadline = Date.now() / 1000 + options.minutes * 60;
  const work = mkdtempSync(join(tmpdir(), 'solvebox-adapt-'));
  try {
    const makeDataset = (args: string[]) => run(process.execPath, ['make-dataset.mjs', '--out', work, ...args], onLine);
    if ((await makeDataset(['--labelled', options.samplesDir, '--name', 'samples'])) !== 0) throw new AdaptError('failed', 'could not read the samples');
    const renders = REPLAY_SOURCES.flatMap((source, i) => [
      { source, split: 'train', count: replay, seed: 61_001 + i },
      { source, split: 'val', count: Math.max(20, Math.round(replay / 4)), seed: 62_001 + i },
    ]);
    // One renderer per core: rendering is most of what comes before training (3.9 minutes of a
    // 30-minute run on two cores, one at a time).
    const renderNext = async (): Promise<void> => {
      for (let job = renders.shift(); job; job = renders.shift()) {
        if ((await makeDataset(['--split', job.split, '--source', job.source, '--count', String(job.count), '--seed', String(job.seed)])) !== 0) {
          throw new AdaptError('failed', `could not render ${job.source} for replay`);
        }
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, availableParallelism()) }, renderNext));
    const code = await run(
      python,
      [
        'train.py',
        '--arch',
        'small',
        '--init',
        join(from, 'ocr.pt'),
        '--data',
        work,
        '--out',
        options.out,
        '--deadline',
        String(deadline),
        '--lr',
        String(options.learningRate ?? 3e-4),
        '--distill',
        String(options.distill ?? 0.5),
        '--batch',
        '64',
        '--eval-every',
        '100',
        '--geometry',
        '0.5',
        '--max-drop',
        String(options.maxDrop ?? 0.01),
        '--weights',
        `samples=${options.samplesWeight ?? 1}`,
      ],
      onLine,
    );
    const reportPath = join(options.out, 'report.json');
    const report = existsSync(reportPath) ? (JSON.parse(readFileSync(reportPath, 'utf8')) as AdaptReport) : undefined;
    if (code === 3) throw new AdaptError('refused', 'the adapted model read our own sources worse than allowed; no model was written', report);
    if (code !== 0 || !report) throw new AdaptError('failed', `training failed (exit ${code})`);
    return report;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
