/**
 * From model scores and a task's hints to an answer. Each hint becomes a constraint on the search
 * (decode.ts), not a filter on its result:
 * - `numeric` 1 digits only, 2 letters only, 3 one or the other (both searched, the likelier wins),
 *   4 at least one of each;
 * - `min_len` / `max_len` bound the reading's length;
 * - `regsense=0` folds case before the search, so both cases of a letter count for it;
 * - `phrase=1` requires a space between two words; without it no space is read;
 * - `calc=1` reads only digits and operators, requires `a op b`, and answers the result;
 * - `language=1` (Cyrillic) is not in the model's charset: nothing can be read.
 */
import type { ImageHints } from '@solvebox/protocol';
import { bestPath, constrainedDecode, foldCase, type Constraints, type FrameScores, type Reading } from './decode.js';

export interface Answer {
  readonly text: string;
  readonly confidence: number;
}

/** Why nothing was read: the hints ask for something the model cannot read, or no reading fits them. */
export type NoAnswer = { readonly reason: 'unsupported-language' | 'no-reading-fits' };

const OPERATORS = '+-*';
const CALC_PATTERN = /^(\d{1,6})([+*-])(\d{1,6})=?\??$/;

export class Reader {
  private readonly digits: number[];
  private readonly letters: number[];
  private readonly lowerLetters: number[];
  private readonly space: number;
  private readonly calcClasses: number[];

  constructor(readonly charset: string) {
    const classesOf = (test: (ch: string) => boolean): number[] => [...charset].flatMap((ch, i) => (test(ch) ? [i + 1] : []));
    this.digits = classesOf((ch) => /[0-9]/.test(ch));
    this.letters = classesOf((ch) => /[a-zA-Z]/.test(ch));
    this.lowerLetters = classesOf((ch) => /[a-z]/.test(ch));
    this.space = charset.indexOf(' ') + 1;
    this.calcClasses = classesOf((ch) => /[0-9=?]/.test(ch) || OPERATORS.includes(ch));
  }

  read(scores: FrameScores, hints: ImageHints): Answer | NoAnswer {
    if (hints.language === 1) return { reason: 'unsupported-language' };
    const folded = hints.caseSensitive ? scores : foldCase(scores, this.charset);
    const letters = hints.caseSensitive ? this.letters : this.lowerLetters;
    const minLength = Math.max(1, hints.minLength);
    const maxLength = hints.maxLength > 0 ? hints.maxLength : scores.frames;

    let best: Reading | undefined;
    if (hints.calc) {
      best = constrainedDecode(folded, { allowed: this.calcClasses, minLength: 3, maxLength: scores.frames, accept: (l) => CALC_PATTERN.test(this.text(l)) });
      if (!best) return { reason: 'no-reading-fits' };
      return { text: evaluate(this.text(best.labels)), confidence: best.confidence };
    }
    const withSpace = (classes: number[]): number[] => (hints.phrase && this.space > 0 ? [...classes, this.space] : classes);
    const phrase = (labels: readonly number[]): boolean => !hints.phrase || this.isPhrase(labels);
    const alternatives: Constraints[] = [];
    const bounds = { minLength, maxLength };
    switch (hints.numeric) {
      case 1:
        alternatives.push({ ...bounds, allowed: withSpace(this.digits), accept: phrase });
        break;
      case 2:
        alternatives.push({ ...bounds, allowed: withSpace(letters), accept: phrase });
        break;
      case 3:
        alternatives.push({ ...bounds, allowed: withSpace(this.digits), accept: phrase }, { ...bounds, allowed: withSpace(letters), accept: phrase });
        break;
      case 4:
        alternatives.push({ ...bounds, allowed: withSpace([...this.digits, ...letters]), accept: (l) => phrase(l) && this.hasDigitAndLetter(l) });
        break;
      default:
        alternatives.push({ ...bounds, allowed: withSpace([...this.digits, ...letters]), accept: phrase });
    }
    for (const constraints of alternatives) {
      const reading = constrainedDecode(folded, constraints);
      if (reading && (!best || reading.confidence > best.confidence)) best = reading;
    }
    if (!best) return { reason: 'no-reading-fits' };
    const text = this.text(best.labels);
    return { text: hints.caseSensitive ? text : this.restoreCase(scores, text), confidence: best.confidence };
  }

  private text(labels: readonly number[]): string {
    return labels.map((l) => this.charset[l - 1] ?? '').join('');
  }

  private isPhrase(labels: readonly number[]): boolean {
    const text = this.text(labels);
    return /^\S+( \S+)+$/.test(text);
  }

  private hasDigitAndLetter(labels: readonly number[]): boolean {
    return labels.some((l) => this.digits.includes(l)) && labels.some((l) => !this.digits.includes(l) && l !== this.space);
  }

  /**
   * A case-folded reading is shown in the case the model saw where the unconstrained best path
   * agrees with it letter for letter; otherwise in lower case, which a case-insensitive check accepts.
   */
  private restoreCase(scores: FrameScores, folded: string): string {
    const unconstrained = this.text(bestPath(scores));
    return unconstrained.toLowerCase() === folded ? unconstrained : folded;
  }
}

/** `a op b` with `+`, `-` or `*`, as an integer string. Only called on text matching CALC_PATTERN. */
export function evaluate(expression: string): string {
  const match = CALC_PATTERN.exec(expression);
  if (!match) throw new Error(`not an arithmetic expression: ${expression}`);
  const a = Number(match[1]);
  const b = Number(match[3]);
  const result = match[2] === '+' ? a + b : match[2] === '-' ? a - b : a * b;
  return String(result);
}
