/**
 * `solvebox ocr adapt` and `solvebox ocr samples list | add DIR | export DIR | purge`: the confirmed
 * answers a deployment keeps, and the model adapted to them (docs/ocr-adaptation.md). Samples are
 * the operator's data; nothing here sends them anywhere.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { NO_IMAGE_HINTS, sniffImageFormat } from '@solvebox/protocol';
import type { Storage } from '@solvebox/server';
import { UsageError, type Command } from '../command.js';
import { printTable } from '../output.js';
import { STORAGE_USAGE, openAdminStorage, parseAdminArgs } from '../server-options.js';

const USAGE = `usage:
  solvebox ocr adapt [--out DIR] [--minutes N] [--from DIR] [--replay N] [--max-drop P] [--db FILE | --redis URL]
      Fine-tunes the OCR model on the kept samples, mixed with replay of our own sources, on this
      machine's CPU (Debian's python3-torch), and writes the model and report.json to --out
      (default ./data/ocr-model). Refuses a model that reads our sources more than a point worse.
      Then: solvebox serve --ocr-model DIR, or SIGHUP / Reload a server started with it.
      --minutes: how long the whole run takes (rendering the replay, training, validating), 30 by
      default. --from: adapt an adapted model again instead of the shipped one.
      --replay: images of each of our sources mixed in (1000). --max-drop: the accepted fall of
      our sources' mean accuracy, 0.01 by default. The model it replaces is kept as DIR.previous.
  solvebox ocr rollback [--out DIR]
      Puts the model before the last adaptation back in DIR (then SIGHUP or Reload the server).
  solvebox ocr samples list [--json] [--db FILE | --redis URL]
      How many samples are kept, by source (operator answers, answers reported good, imported).
  solvebox ocr samples add DIR [--db FILE | --redis URL]
      Adds labelled images: DIR/labels.tsv holds "file<TAB>answer" lines, files relative to DIR.
  solvebox ocr samples export DIR [--db FILE | --redis URL]
      Writes every sample to DIR as an image file and a line of DIR/labels.tsv (file, answer).
  solvebox ocr samples purge [--db FILE | --redis URL]
      Deletes every sample.

${STORAGE_USAGE}`;

const EXTENSION = { png: 'png', jpeg: 'jpg', gif: 'gif' } as const;
/** Samples read from storage at once while exporting. */
const PAGE = 500;

export const ocrCommand: Command = {
  async run(argv) {
    const { values, positionals } = parse(argv);
    const [group, action, dir, ...extra] = positionals;
    if (values.help || group === undefined) {
      process.stdout.write(`${USAGE}\n`);
      return values.help ? 0 : 2;
    }
    const rest = [action, dir, ...extra].filter((x) => x !== undefined);
    if (group === 'adapt') return adapt(values, rest);
    if (group === 'rollback') return rollback(values, rest);
    if (group !== 'samples') throw new UsageError(`unknown ocr command "${group}"\n${USAGE}`);
    if (extra.length > 0) throw new UsageError(`unexpected arguments: ${extra.join(' ')}`);
    if (!['list', 'add', 'export', 'purge'].includes(action ?? '')) throw new UsageError(`unknown action "${action ?? ''}"\n${USAGE}`);
    if ((action === 'add' || action === 'export') && dir === undefined) throw new UsageError(`name the folder: solvebox ocr samples ${action} DIR`);
    // A bad folder is refused before the database is opened (or created).
    const imports = action === 'add' ? readLabelled(dir as string) : [];
    const storage = await openAdminStorage(values);
    try {
      switch (action) {
        case 'add':
          return await add(storage, imports);
        case 'export':
          return await exportTo(storage, dir as string);
        case 'purge':
          process.stdout.write(`deleted ${await storage.purgeSamples()} samples\n`);
          return 0;
        default:
          return await list(storage, values.json === true);
      }
    } finally {
      await storage.close();
    }
  },
};

function parse(argv: readonly string[]) {
  return parseAdminArgs(argv, {
    out: { type: 'string' },
    minutes: { type: 'string' },
    from: { type: 'string' },
    replay: { type: 'string' },
    'max-drop': { type: 'string' },
  });
}

interface Labelled {
  readonly file: string;
  readonly answer: string;
  readonly image: Uint8Array;
}

function readLabelled(dir: string): Labelled[] {
  let text: string;
  try {
    text = readFileSync(join(dir, 'labels.tsv'), 'utf8');
  } catch {
    throw new UsageError(`no ${join(dir, 'labels.tsv')}: it lists the images, one "file<TAB>answer" line each`);
  }
  return text
    .split('\n')
    .map((line) => line.replace(/\r$/, ''))
    .filter((line) => line.trim() !== '')
    .map((line, i) => {
      const [file, answer, ...rest] = line.split('\t');
      if (!file || !answer || rest.length > 0) throw new UsageError(`labels.tsv line ${i + 1}: expected "file<TAB>answer"`);
      let image: Uint8Array;
      try {
        image = readFileSync(join(dir, file));
      } catch {
        throw new UsageError(`labels.tsv line ${i + 1}: cannot read ${file}`);
      }
      if (!sniffImageFormat(image)) throw new UsageError(`labels.tsv line ${i + 1}: ${file} is not a PNG, JPEG or GIF image`);
      return { file, answer: answer.trim(), image };
    });
}

async function add(storage: Storage, imports: readonly Labelled[]): Promise<number> {
  const now = Date.now();
  // Imports are never trimmed here; the server's --samples-keep applies as it keeps new ones.
  for (const item of imports) {
    await storage.keepSample(
      { id: `import:${item.file}`, image: item.image, hints: NO_IMAGE_HINTS, answer: item.answer, source: 'imported', answeredBy: 'import', at: now },
      Number.MAX_SAFE_INTEGER,
    );
  }
  process.stdout.write(`added ${imports.length} samples; ${await storage.countSamples()} kept in all\n`);
  return 0;
}

type Values = ReturnType<typeof parse>['values'];

async function adapt(values: Values, extra: readonly string[]): Promise<number> {
  if (extra.length > 0) throw new UsageError(`unexpected arguments: ${extra.join(' ')}`);
  const minutes = values.minutes === undefined ? 30 : Number(values.minutes);
  if (!Number.isFinite(minutes) || minutes <= 0 || minutes > 24 * 60) throw new UsageError('--minutes must be a number of minutes above 0');
  const out = resolve(values.out ?? join('data', 'ocr-model'));
  const replay = values.replay === undefined ? 1000 : Number(values.replay);
  if (!Number.isInteger(replay) || replay < 10 || replay > 100_000) throw new UsageError('--replay must be a whole number from 10 to 100000');
  const maxDrop = values['max-drop'] === undefined ? 0.01 : Number(values['max-drop']);
  if (!Number.isFinite(maxDrop) || maxDrop < 0 || maxDrop > 1) throw new UsageError('--max-drop must be a fraction from 0 to 1');
  const { AdaptError, adaptModel, adaptPrerequisites } = await import('@solvebox/server/ocr-adapt');
  const missing = adaptPrerequisites();
  if (missing) {
    process.stderr.write(`${missing.message}\n`);
    return 3;
  }
  const work = mkdtempSync(join(tmpdir(), 'solvebox-samples-'));
  try {
    const storage = await openAdminStorage(values);
    let count: number;
    try {
      count = await writeSamples(storage, work);
    } finally {
      await storage.close();
    }
    if (count < 10) {
      process.stderr.write(`only ${count} samples are kept: adapting needs at least 10 (see solvebox ocr samples)\n`);
      return 1;
    }
    process.stdout.write(`adapting to ${count} samples within ${minutes} min; the model goes to ${out}\n`);
    // The new model goes to a folder of its own first; `out` changes only when it is accepted.
    const next = `${out}.next`;
    rmSync(next, { recursive: true, force: true });
    const report = await adaptModel({
      samplesDir: work,
      out: next,
      minutes,
      replayPerSource: replay,
      maxDrop,
      ...(values.from ? { from: resolve(values.from) } : {}),
      onLine: (line) => {
        if (/^(step|eval|training on|exported|samples:)/.test(line)) process.stdout.write(`  ${line}\n`);
      },
    }).catch((err: unknown) => {
      if (!(err instanceof AdaptError)) throw err;
      process.stderr.write(`${err.message}\n`);
      if (err.report) printReport(err.report);
      return undefined;
    });
    if (!report) {
      rmSync(next, { recursive: true, force: true });
      return 1;
    }
    printReport(report);
    // The model it replaces stays as `out.previous`, for `solvebox ocr rollback`.
    if (existsSync(out)) {
      rmSync(`${out}.previous`, { recursive: true, force: true });
      renameSync(out, `${out}.previous`);
    }
    renameSync(next, out);
    process.stdout.write(`wrote ${out}: serve it with --ocr-model ${out}, or send SIGHUP to a server started with it\n`);
    return 0;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** `solvebox ocr rollback`: the model before the last adaptation comes back (and the newer one becomes `.previous`). */
function rollback(values: Values, extra: readonly string[]): number {
  if (extra.length > 0) throw new UsageError(`unexpected arguments: ${extra.join(' ')}`);
  const out = resolve(values.out ?? join('data', 'ocr-model'));
  const previous = `${out}.previous`;
  if (!existsSync(previous)) {
    process.stderr.write(`no ${previous}: nothing to roll back to\n`);
    return 1;
  }
  const swap = `${out}.swap`;
  rmSync(swap, { recursive: true, force: true });
  renameSync(out, swap);
  renameSync(previous, out);
  renameSync(swap, previous);
  process.stdout.write(`${out} holds the previous model again; send SIGHUP (or press Reload) to a server started with --ocr-model ${out}\n`);
  return 0;
}

function printReport(report: { before: Record<string, number>; after: Record<string, number> }): void {
  printTable(
    ['VALIDATION', 'BEFORE', 'AFTER'],
    Object.keys(report.after).map((source) => [
      source,
      `${((report.before[source] ?? 0) * 100).toFixed(1)} %`,
      `${((report.after[source] ?? 0) * 100).toFixed(1)} %`,
    ]),
  );
}

async function exportTo(storage: Storage, dir: string): Promise<number> {
  const written = await writeSamples(storage, dir);
  process.stdout.write(`wrote ${written} samples to ${dir}\n`);
  return 0;
}

/** Every sample as an image file in `dir` and a line of `dir/labels.tsv`; returns how many. */
async function writeSamples(storage: Storage, dir: string): Promise<number> {
  mkdirSync(dir, { recursive: true });
  const lines: string[] = [];
  for (let offset = 0; ; offset += PAGE) {
    const page = await storage.listSamples(offset, PAGE);
    for (const [i, sample] of page.entries()) {
      const file = `${String(offset + i + 1).padStart(6, '0')}.${EXTENSION[sniffImageFormat(sample.image) ?? 'png']}`;
      writeFileSync(join(dir, file), sample.image);
      lines.push(`${file}\t${sample.answer}`);
    }
    if (page.length < PAGE) break;
  }
  writeFileSync(join(dir, 'labels.tsv'), lines.map((line) => `${line}\n`).join(''));
  return lines.length;
}

async function list(storage: Storage, json: boolean): Promise<number> {
  const counts = { operator: 0, reported: 0, imported: 0 };
  for (let offset = 0; ; offset += PAGE) {
    const page = await storage.listSamples(offset, PAGE);
    for (const sample of page) counts[sample.source] += 1;
    if (page.length < PAGE) break;
  }
  const total = counts.operator + counts.reported + counts.imported;
  if (json) process.stdout.write(`${JSON.stringify({ total, ...counts })}\n`);
  else printTable(['SOURCE', 'SAMPLES'], [...Object.entries(counts).map(([source, n]) => [source, String(n)]), ['total', String(total)]]);
  return 0;
}
