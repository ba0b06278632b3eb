/**
 * CTC decoding under constraints. The model gives, for each of its T columns, log-probabilities
 * over the blank and the charset. A prefix beam search walks those columns keeping only readings
 * the task's hints allow (characters, length), so a hint changes which reading wins rather than
 * throwing away the one best guess afterwards. Pure and deterministic.
 */

/** Log-probabilities, row-major: `frames` rows of `classes` values; class 0 is the CTC blank. */
export interface FrameScores {
  readonly data: Float32Array;
  readonly frames: number;
  readonly classes: number;
}

export interface Constraints {
  /** The classes (1-based charset indices) a reading may contain. */
  readonly allowed: readonly number[];
  readonly minLength: number;
  readonly maxLength: number;
  /** A complete reading must pass this (e.g. "has a digit and a letter", "is arithmetic"). */
  readonly accept?: (labels: readonly number[]) => boolean;
}

export interface Reading {
  readonly labels: readonly number[];
  /** The probability the model gives this whole reading, 0..1 (summed over its alignments). */
  readonly confidence: number;
}

const NEG_INF = -Infinity;

function logAdd(a: number, b: number): number {
  if (a === NEG_INF) return b;
  if (b === NEG_INF) return a;
  const max = Math.max(a, b);
  return max + Math.log1p(Math.exp(-Math.abs(a - b)));
}

/** Best path: the most likely class per frame, repeats merged, blanks dropped. Unconstrained. */
export function bestPath(scores: FrameScores): number[] {
  const labels: number[] = [];
  let previous = 0;
  for (let t = 0; t < scores.frames; t += 1) {
    let best = 0;
    let bestScore = NEG_INF;
    const row = t * scores.classes;
    for (let c = 0; c < scores.classes; c += 1) {
      const s = scores.data[row + c]!;
      if (s > bestScore) (bestScore = s), (best = c);
    }
    if (best !== previous && best !== 0) labels.push(best);
    previous = best;
  }
  return labels;
}

interface Beam {
  readonly labels: number[];
  /** Log-probability of the prefix with its last frame a blank / a repeat of its last label. */
  blank: number;
  label: number;
}

/**
 * Characters scoring below this in a frame are not tried there, nor any but the frame's best few:
 * they cannot win, and on a noisy image where the model spreads its doubt thinly, trying all of
 * them makes the search ten times slower.
 */
const PRUNE_LOG_PROB = Math.log(1e-4);
const CANDIDATES_PER_FRAME = 8;

/**
 * Prefix beam search over the allowed classes. Returns the most probable reading that satisfies
 * the constraints, or undefined when none of the beams does.
 */
export function constrainedDecode(scores: FrameScores, constraints: Constraints, beamWidth = 16): Reading | undefined {
  const { frames, classes, data } = scores;
  const allowed = constraints.allowed.filter((c) => c > 0 && c < classes);
  let beams = new Map<string, Beam>([['', { labels: [], blank: 0, label: NEG_INF }]]);
  for (let t = 0; t < frames; t += 1) {
    const row = t * classes;
    const blankScore = data[row]!;
    const next = new Map<string, Beam>();
    const get = (labels: number[]): Beam => {
      const key = labels.join(',');
      let beam = next.get(key);
      if (!beam) next.set(key, (beam = { labels, blank: NEG_INF, label: NEG_INF }));
      return beam;
    };
    const candidates = allowed
      .filter((c) => data[row + c]! >= PRUNE_LOG_PROB)
      .sort((a, b) => data[row + b]! - data[row + a]!)
      .slice(0, CANDIDATES_PER_FRAME);
    for (const beam of beams.values()) {
      const total = logAdd(beam.blank, beam.label);
      // Stay on the same prefix: a blank, or a repeat of the last label without a blank between.
      const same = get(beam.labels);
      same.blank = logAdd(same.blank, total + blankScore);
      const last = beam.labels[beam.labels.length - 1];
      if (last !== undefined) same.label = logAdd(same.label, beam.label + data[row + last]!);
      if (beam.labels.length >= constraints.maxLength) continue;
      for (const c of candidates) {
        const s = data[row + c]!;
        const extended = get([...beam.labels, c]);
        // A repeated label only starts a new character after a blank.
        extended.label = logAdd(extended.label, (c === last ? beam.blank : total) + s);
      }
    }
    beams = new Map([...next.entries()].sort((a, b) => logAdd(b[1].blank, b[1].label) - logAdd(a[1].blank, a[1].label)).slice(0, beamWidth));
  }
  let best: Reading | undefined;
  for (const beam of beams.values()) {
    if (beam.labels.length < constraints.minLength) continue;
    if (constraints.accept && !constraints.accept(beam.labels)) continue;
    const confidence = Math.exp(logAdd(beam.blank, beam.label));
    if (!best || confidence > best.confidence) best = { labels: beam.labels, confidence };
  }
  return best;
}

/**
 * Case folding: the scores of each letter's two cases summed (in probability) into the lower-case
 * class, the upper-case class left impossible. Used when the answer is not case-sensitive, so
 * that a letter the model half-reads as `c` and half as `C` still counts fully as that letter.
 */
export function foldCase(scores: FrameScores, charset: string): FrameScores {
  const data = Float32Array.from(scores.data);
  const pairs: [number, number][] = [];
  for (let i = 0; i < charset.length; i += 1) {
    const ch = charset[i]!;
    const lower = ch.toLowerCase();
    if (ch !== lower) {
      const j = charset.indexOf(lower);
      if (j >= 0) pairs.push([j + 1, i + 1]);
    }
  }
  for (let t = 0; t < scores.frames; t += 1) {
    const row = t * scores.classes;
    for (const [lower, upper] of pairs) {
      data[row + lower] = logAdd(data[row + lower]!, data[row + upper]!);
      data[row + upper] = NEG_INF;
    }
  }
  return { data, frames: scores.frames, classes: scores.classes };
}
