/**
 * Whether a typed answer keeps an image task's hints (`numeric`, `min_len`, `max_len`, `phrase`,
 * `calc`, `language`), as 2Captcha's and CaptchaAI's workers are held to them. The console checks
 * each operator's answer with this before it reaches the client; the browser shows the same
 * message as the operator types.
 */
import type { ImageHints } from './tasks.js';

const DIGIT = /\p{Nd}/u;
const LETTER = /\p{L}/u;
const CYRILLIC = /\p{Script=Cyrillic}/u;
const LATIN = /\p{Script=Latin}/u;

/** Why `answer` breaks the hints, in words for the person who typed it; undefined when it keeps them. */
export function answerProblem(hints: ImageHints, answer: string): string | undefined {
  const text = answer.trim();
  if (text === '') return 'the answer is empty';
  const chars = [...text];
  if (hints.minLength > 0 && chars.length < hints.minLength) return `at least ${hints.minLength} characters`;
  if (hints.maxLength > 0 && chars.length > hints.maxLength) return `at most ${hints.maxLength} characters`;
  if (hints.calc && !/^-?\d+([.,]\d+)?$/.test(text)) return 'the result of the calculation, a number';
  if (hints.phrase && !/\S\s+\S/.test(text)) return 'two words or more';
  const compact = chars.filter((c) => !/\s/.test(c));
  const digits = compact.some((c) => DIGIT.test(c));
  const letters = compact.some((c) => LETTER.test(c));
  switch (hints.numeric) {
    case 1:
      if (!compact.every((c) => DIGIT.test(c))) return 'digits only';
      break;
    case 2:
      if (!compact.every((c) => LETTER.test(c))) return 'letters only';
      break;
    case 3:
      if (digits && letters) return 'digits only or letters only, not both';
      break;
    case 4:
      if (!digits || !letters) return 'both digits and letters';
      break;
  }
  const foreign = compact.filter((c) => LETTER.test(c)).find((c) => (hints.language === 1 ? !CYRILLIC.test(c) : hints.language === 2 ? !LATIN.test(c) : false));
  if (foreign !== undefined) return hints.language === 1 ? 'Cyrillic letters only' : 'Latin letters only';
  return undefined;
}
