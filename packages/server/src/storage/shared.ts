/** What every storage adapter applies the same way. */

/** The code an unfinished task reads once its deadline has passed. */
export const OVERDUE_CODE = 'ERROR_CAPTCHA_UNSOLVABLE';

/** The listeners an adapter calls when a task ends (solved or failed), for long-polls waiting on it. */
export class FinishedListeners {
  private readonly listeners = new Set<(id: string) => void>();

  add(listener: (id: string) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  emit(id: string): void {
    for (const listener of this.listeners) listener(id);
  }
}
