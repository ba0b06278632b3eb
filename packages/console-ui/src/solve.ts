/**
 * The solve view, keyboard first: the next task arrives over server-sent events; type and press
 * Enter; Esc skips; F2 marks the task unreadable. Grids: click cells or press 1-9. Click points:
 * click the image, Backspace takes the last point back.
 */
import { html } from 'htm/preact';
import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import type { MutableRef } from 'preact/hooks';
import { answerProblem, type TaskCard } from '@solvebox/protocol';
import { api } from './api.js';

const NUMERIC = ['', 'digits only', 'letters only', 'digits or letters, not both', 'digits and letters'];

function hintLabels(hints: TaskCard['hints']): string[] {
  if (!hints) return [];
  const labels: string[] = [];
  if (hints.numeric) labels.push(NUMERIC[hints.numeric] as string);
  if (hints.minLength && hints.maxLength) labels.push(`${hints.minLength}–${hints.maxLength} characters`);
  else if (hints.minLength) labels.push(`at least ${hints.minLength} characters`);
  else if (hints.maxLength) labels.push(`at most ${hints.maxLength} characters`);
  if (hints.caseSensitive) labels.push('case matters');
  if (hints.phrase) labels.push('two words or more');
  if (hints.calc) labels.push('type the result');
  if (hints.language === 1) labels.push('Cyrillic');
  if (hints.language === 2) labels.push('Latin');
  return labels;
}

export function SolveView() {
  const [card, setCard] = useState<TaskCard | null>(null);
  const [connected, setConnected] = useState(false);
  const [offset, setOffset] = useState(0);
  const [now, setNow] = useState(Date.now());
  const [solved, setSolved] = useState(0);
  const [message, setMessage] = useState('');
  // One key listener for the page's life, so that no key pressed right after a task appears is
  // lost: the task's answer component puts its own handler here as it renders.
  const keys = useRef<KeyHandler | null>(null);

  useEffect(() => {
    const onKey = (event: KeyboardEvent) => keys.current?.(event);
    addEventListener('keydown', onKey);
    const events = new EventSource('/api/desk/stream');
    events.addEventListener('open', () => setConnected(true));
    events.addEventListener('error', () => setConnected(false));
    events.addEventListener('task', (e) => {
      const next = JSON.parse((e as MessageEvent<string>).data) as TaskCard;
      setOffset(next.serverNow - Date.now());
      setMessage('');
      setCard(next);
    });
    events.addEventListener('idle', () => setCard(null));
    const tick = setInterval(() => setNow(Date.now()), 250);
    return () => {
      removeEventListener('keydown', onKey);
      events.close();
      clearInterval(tick);
    };
  }, []);

  const send = async (verdict: 'answer' | 'skip' | 'unreadable', body: unknown = {}) => {
    if (!card) return;
    const answered = card.id;
    try {
      await api(`/api/desk/${encodeURIComponent(answered)}/${verdict}`, body);
      if (verdict === 'answer') setSolved((n) => n + 1);
      // The next task may have arrived while this answer was on its way: keep it.
      setCard((current) => (current?.id === answered ? null : current));
      setMessage('');
    } catch (err) {
      setMessage((err as Error).message);
    }
  };

  const status = connected ? '' : ' (reconnecting…)';
  if (!card) {
    keys.current = null;
    return html`<section class="solve idle">
      <p class="waiting">Waiting for a task${status}</p>
      <p class="muted">Solved this session: <span data-testid="solved-count">${solved}</span></p>
    </section>`;
  }
  const left = Math.max(0, Math.min(card.leaseEndsAt, card.deadlineAt) - (now + offset));
  return html`<section class="solve" data-task=${card.id}>
    <div class="meta">
      <span class="type">${card.type}</span>
      <span class=${left < 10_000 ? 'time low' : 'time'} data-testid="time-left">${Math.ceil(left / 1000)} s</span>
      <span class="muted">Solved: <span data-testid="solved-count">${solved}</span></span>
    </div>
    ${card.instructions && html`<p class="instructions" data-testid="instructions">${card.instructions}</p>`}
    ${hintLabels(card.hints).length > 0 && html`<ul class="hints">${hintLabels(card.hints).map((h) => html`<li>${h}</li>`)}</ul>`}
    ${card.hasInstructionsImage && html`<img class="instructions-image" src=${`/api/desk/${card.id}/image/1`} alt="what to look for" />`}
    <${Answer} key=${card.id} card=${card} send=${send} keys=${keys} />
    ${message && html`<p class="error" role="alert">${message}</p>`}
    <p class="keys muted"><kbd>Enter</kbd> answer · <kbd>Esc</kbd> skip · <kbd>F2</kbd> unreadable</p>
  </section>`;
}

type Send = (verdict: 'answer' | 'skip' | 'unreadable', body?: unknown) => Promise<void>;
type KeyHandler = (event: KeyboardEvent) => void;
interface AnswerProps {
  readonly card: TaskCard;
  readonly send: Send;
  /** Where the component puts its key handler, as it renders. */
  readonly keys: MutableRef<KeyHandler | null>;
}

/** Esc and F2 for every type; the type's own keys after them. */
function withCommonKeys(send: Send, own: KeyHandler = () => {}): KeyHandler {
  return (event) => {
    if (event.key === 'Escape') {
      event.preventDefault();
      void send('skip');
    } else if (event.key === 'F2') {
      event.preventDefault();
      void send('unreadable');
    } else {
      own(event);
    }
  };
}

function Answer(props: AnswerProps) {
  switch (props.card.type) {
    case 'grid':
    case 'bls':
      return html`<${GridAnswer} ...${props} />`;
    case 'coordinates':
      return html`<${PointsAnswer} ...${props} />`;
    default:
      return html`<${TextAnswer} ...${props} />`;
  }
}

function TextAnswer({ card, send, keys }: AnswerProps) {
  const [text, setText] = useState('');
  const [angle, setAngle] = useState(0);
  const input = useRef<HTMLInputElement>(null);
  // Focused in the same commit that shows the task, so that no keystroke goes elsewhere.
  useLayoutEffect(() => input.current?.focus(), []);
  const problem = card.type === 'image' && card.hints && text !== '' ? answerProblem({ ...card.hints }, text) : undefined;
  const submit = (event: Event) => {
    event.preventDefault();
    const value = card.type === 'rotate' ? String(angle) : text;
    if (problem || value.trim() === '') return;
    void send('answer', { text: value });
  };
  const step = card.angle ?? 40;
  keys.current = withCommonKeys(send, (event) => {
    if (card.type !== 'rotate') return;
    if (event.key === 'ArrowRight') setAngle((a) => (a + step) % 360);
    if (event.key === 'ArrowLeft') setAngle((a) => (a - step + 360) % 360);
  });
  return html`<form class="answer" onSubmit=${submit}>
    ${
      card.images > 0 &&
      html`<img
      class="captcha"
      src=${`/api/desk/${card.id}/image/0`}
      alt="the captcha"
      style=${card.type === 'rotate' ? `transform: rotate(${angle}deg)` : ''}
    />`
    }
    ${card.hasAudio && html`<audio controls autoplay src=${`/api/desk/${card.id}/audio`}></audio>`}
    ${
      card.type === 'rotate'
        ? html`<p>Turn it upright with <kbd>←</kbd> <kbd>→</kbd>: <strong data-testid="angle">${angle}°</strong></p>
          <input ref=${input} class="text" readonly value=${`${angle}`} aria-label="angle" />`
        : html`<input
          ref=${input}
          class="text"
          autocomplete="off"
          autocapitalize="off"
          spellcheck=${false}
          aria-label="answer"
          value=${text}
          onInput=${(e: Event) => setText((e.target as HTMLInputElement).value)}
        />`
    }
    ${problem && html`<p class="error">${problem}</p>`}
  </form>`;
}

function GridAnswer({ card, send, keys }: AnswerProps) {
  const rows = card.rows ?? 3;
  const columns = card.columns ?? 3;
  const [picked, setPicked] = useState<number[]>([]);
  const toggle = (cell: number) => setPicked((p) => (p.includes(cell) ? p.filter((c) => c !== cell) : [...p, cell].sort((a, b) => a - b)));
  keys.current = withCommonKeys(send, (event) => {
    const n = Number(event.key);
    if (Number.isInteger(n) && n >= 1 && n <= Math.min(9, rows * columns)) {
      toggle(n);
    } else if (event.key === 'Enter') {
      // Not also a click on the focused cell.
      event.preventDefault();
      if (picked.length > 0) void send('answer', { cells: picked });
    } else if (event.key === 'n' && card.canSkip) {
      void send('answer', { noMatch: true });
    }
  });
  const separate = card.type === 'bls' && card.images === 9;
  const cells = Array.from({ length: rows * columns }, (_, i) => i + 1);
  return html`<div class="grid-answer">
    <div class=${separate ? 'grid separate' : 'grid'} style=${`grid-template-columns: repeat(${columns}, 1fr)`}>
      ${!separate && html`<img class="grid-image" src=${`/api/desk/${card.id}/image/0`} alt="the grid" />`}
      ${cells.map(
        (cell) => html`<button
          type="button"
          class=${picked.includes(cell) ? 'cell picked' : 'cell'}
          data-cell=${cell}
          aria-pressed=${picked.includes(cell)}
          onClick=${() => toggle(cell)}
        >
          ${separate && html`<img src=${`/api/desk/${card.id}/image/${cell - 1}`} alt=${`cell ${cell}`} />`}
          <span class="number">${cell}</span>
        </button>`,
      )}
    </div>
    <button type="button" disabled=${picked.length === 0} onClick=${() => send('answer', { cells: picked })}>Send (Enter)</button>
    ${card.canSkip && html`<button type="button" onClick=${() => send('answer', { noMatch: true })}>No matching images (N)</button>`}
  </div>`;
}

function PointsAnswer({ card, send, keys }: AnswerProps) {
  const [points, setPoints] = useState<{ x: number; y: number }[]>([]);
  keys.current = withCommonKeys(send, (event) => {
    if (event.key === 'Backspace') {
      setPoints((p) => p.slice(0, -1));
    } else if (event.key === 'Enter') {
      event.preventDefault();
      if (points.length > 0) void send('answer', { points });
    }
  });
  const click = (event: MouseEvent) => {
    const image = event.currentTarget as HTMLImageElement;
    const box = image.getBoundingClientRect();
    // Points are in the image's own pixels, whatever size it is shown at.
    const x = ((event.clientX - box.left) * image.naturalWidth) / box.width;
    const y = ((event.clientY - box.top) * image.naturalHeight) / box.height;
    setPoints((p) => [...p, { x: Math.round(x), y: Math.round(y) }]);
  };
  return html`<div class="points-answer">
    <div class="points-frame">
      <img class="captcha" src=${`/api/desk/${card.id}/image/0`} alt="click the points" onClick=${click} />
    </div>
    <p class="muted">Points: ${points.map((p) => `(${p.x}, ${p.y})`).join(' ') || 'none yet'}</p>
    <button type="button" disabled=${points.length === 0} onClick=${() => send('answer', { points })}>Send (Enter)</button>
  </div>`;
}
