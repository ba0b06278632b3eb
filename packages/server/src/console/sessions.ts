/**
 * Console sessions: a random id in an httpOnly, SameSite=Strict cookie, and a CSRF token that
 * every state change must echo in a header. Kept in this process's memory: an operator's browser
 * talks to one console, and a restart logs everyone out, which is the safe failure.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { OperatorRole } from '../storage/types.js';

export const SESSION_COOKIE = 'solvebox_session';
export const CSRF_HEADER = 'x-csrf-token';

export interface Session {
  readonly id: string;
  readonly operator: string;
  readonly role: OperatorRole;
  readonly csrf: string;
  readonly expiresAt: number;
}

export class Sessions {
  private readonly sessions = new Map<string, Session>();

  constructor(
    private readonly lifetimeMs: number,
    private readonly clock: () => number,
  ) {}

  open(operator: string, role: OperatorRole): Session {
    this.prune();
    const session: Session = {
      id: randomBytes(32).toString('base64url'),
      operator,
      role,
      csrf: randomBytes(32).toString('base64url'),
      expiresAt: this.clock() + this.lifetimeMs,
    };
    this.sessions.set(session.id, session);
    return session;
  }

  find(id: string | undefined): Session | undefined {
    if (!id) return undefined;
    const session = this.sessions.get(id);
    if (!session) return undefined;
    if (session.expiresAt <= this.clock()) {
      this.sessions.delete(id);
      return undefined;
    }
    return session;
  }

  close(id: string): void {
    this.sessions.delete(id);
  }

  /** Ends every session of an operator (disabled). */
  closeAll(operator: string): void {
    for (const [id, session] of this.sessions) if (session.operator === operator) this.sessions.delete(id);
  }

  private prune(): void {
    const now = this.clock();
    for (const [id, session] of this.sessions) if (session.expiresAt <= now) this.sessions.delete(id);
  }
}

export function csrfMatches(session: Session, token: string | undefined): boolean {
  if (!token) return false;
  const a = Buffer.from(session.csrf);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}
