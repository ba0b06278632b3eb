/**
 * The task card the console's server sends its solve view (an event of the operator's stream):
 * the one shape both sides compile against. Text is data, which the view renders as text only.
 */
import type { ImageHints, TaskType } from './tasks.js';

export interface TaskCard {
  readonly id: string;
  readonly type: TaskType;
  /** What to do, in words: the caller's instructions, the question, or the BLS number. */
  readonly instructions?: string;
  /** An image task's hints, its instructions aside (they are `instructions` above). */
  readonly hints?: Omit<ImageHints, 'instructions'>;
  /** How many images the task has (each at `/api/desk/<id>/image/<n>`). */
  readonly images: number;
  readonly hasAudio: boolean;
  /** Image 1 shows what to look for (grids, click points, rotation). */
  readonly hasInstructionsImage: boolean;
  /** Grids: rows and columns; whether "no matching images" is an allowed answer. */
  readonly rows?: number;
  readonly columns?: number;
  readonly canSkip?: boolean;
  /** Rotation: degrees per step. */
  readonly angle?: number;
  /** Epoch ms: when the operator's lease ends, and the task's own deadline. */
  readonly leaseEndsAt: number;
  readonly deadlineAt: number;
  /** The server's clock when it sent the card, so that the view counts down in the server's time. */
  readonly serverNow: number;
}
