/**
 * What the console shows an operator of a task, and how an operator's answer becomes the task's
 * solution, in the shape each type's clients expect (as the sandbox answers them). Answers are
 * checked against the task's hints before they reach a client.
 */
import { answerProblem, imagesOf, type Solution, type TaskCard, type TaskSpec } from '@solvebox/protocol';

export function cardOf(id: string, spec: TaskSpec, leaseEndsAt: number, deadlineAt: number, serverNow: number): TaskCard {
  const base = {
    id,
    type: spec.type,
    images: imagesOf(spec).length,
    hasAudio: spec.type === 'audio',
    hasInstructionsImage: false,
    leaseEndsAt,
    deadlineAt,
    serverNow,
  };
  switch (spec.type) {
    case 'image': {
      const { instructions, ...hints } = spec.hints;
      return { ...base, ...(instructions ? { instructions } : {}), hints };
    }
    case 'textcaptcha':
      return { ...base, instructions: spec.question };
    case 'bls':
      return { ...base, instructions: `Select every cell that shows ${spec.instructions}`, rows: 3, columns: 3 };
    case 'grid':
    case 'coordinates':
    case 'rotate':
      return {
        ...base,
        ...(spec.instructions ? { instructions: spec.instructions } : {}),
        hasInstructionsImage: spec.instructionsImage !== undefined,
        ...(spec.type === 'grid' ? { rows: spec.rows ?? 3, columns: spec.columns ?? 3, canSkip: spec.canSkip ?? false } : {}),
        ...(spec.type === 'rotate' ? { angle: spec.angle ?? 40 } : {}),
      };
    case 'audio':
      return { ...base, instructions: `Type what you hear (${spec.lang})` };
    default:
      return base;
  }
}

/** What the browser posts: text, grid cells (numbered from 1), or points on the image. */
export interface AnswerBody {
  readonly text?: unknown;
  readonly cells?: unknown;
  readonly points?: unknown;
  readonly noMatch?: unknown;
}

export type AnswerResult = { readonly ok: true; readonly solution: Solution } | { readonly ok: false; readonly problem: string };

export function solutionOf(spec: TaskSpec, body: AnswerBody): AnswerResult {
  const text = typeof body.text === 'string' ? body.text.trim() : undefined;
  switch (spec.type) {
    case 'image': {
      const problem = answerProblem(spec.hints, text ?? '');
      return problem ? { ok: false, problem } : { ok: true, solution: { kind: 'text', text: text as string } };
    }
    case 'textcaptcha':
    case 'audio':
      return text ? { ok: true, solution: { kind: 'text', text } } : { ok: false, problem: 'the answer is empty' };
    case 'rotate': {
      const angle = Number(text);
      return text && Number.isFinite(angle)
        ? { ok: true, solution: { kind: 'text', text: String(Math.round(angle)) } }
        : { ok: false, problem: 'an angle in degrees' };
    }
    case 'grid': {
      if (body.noMatch === true && spec.canSkip) return { ok: true, solution: { kind: 'text', text: 'No_matching_images' } };
      const cells = cellsOf(body.cells, (spec.rows ?? 3) * (spec.columns ?? 3));
      return cells ? { ok: true, solution: { kind: 'text', text: `click:${cells.join('/')}` } } : { ok: false, problem: 'pick at least one cell' };
    }
    case 'bls': {
      const cells = cellsOf(body.cells, 9);
      return cells ? { ok: true, solution: { kind: 'cells', cells } } : { ok: false, problem: 'pick at least one cell' };
    }
    case 'coordinates': {
      const points = pointsOf(body.points);
      return points ? { ok: true, solution: { kind: 'points', points } } : { ok: false, problem: 'click at least one point' };
    }
    default:
      return { ok: false, problem: `${spec.type} tasks are not answered in the console` };
  }
}

function cellsOf(value: unknown, count: number): number[] | undefined {
  if (!Array.isArray(value) || value.length === 0) return undefined;
  const cells = [...new Set(value)].sort((a, b) => a - b);
  return cells.every((c) => Number.isInteger(c) && c >= 1 && c <= count) ? cells : undefined;
}

function pointsOf(value: unknown): { x: number; y: number }[] | undefined {
  if (!Array.isArray(value) || value.length === 0 || value.length > 50) return undefined;
  const points = value.map((p: unknown) => {
    const { x, y } = (p ?? {}) as { x?: unknown; y?: unknown };
    return typeof x === 'number' && typeof y === 'number' && x >= 0 && y >= 0 && x < 1e5 && y < 1e5 ? { x: Math.round(x), y: Math.round(y) } : undefined;
  });
  return points.every((p) => p !== undefined) ? (points as { x: number; y: number }[]) : undefined;
}
