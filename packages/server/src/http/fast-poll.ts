/**
 * The fast path of the hottest request: a `res.php` `get` or `get2` poll whose every input is
 * already in memory (the IP known not to be banned, the key's account cached, the task's view in
 * the storage adapter's cache). It is answered straight from the HTTP server's request event,
 * before the framework routes it, with the same reply and rendering functions as the normal
 * route. Anything else, including any cache miss, returns undefined and takes the normal route,
 * which gives the same answer; so this path changes speed, never behaviour.
 *
 * What can be worked out once is: a client polls the same URL every few seconds, so the parse of
 * a URL is remembered (the checks that depend on state, such as bans, keys and the task, run on
 * every request); and a task's view only changes by being replaced, so its rendered answer is
 * remembered with it.
 */
import type { IncomingMessage } from 'node:http';
import { LONG_POLL_HEADER, MAX_WAIT_SECONDS, renderReply, waitMillis, WAIT_PARAM } from '@solvebox/protocol';
import { BoundedMap } from '../bounded-map.js';
import { usable } from '../gatekeeper.js';
import { requestedTaskId, taskReply } from '../routes/task-reply.js';
import type { Services } from '../services.js';
import type { TaskView } from '../storage/types.js';
import { clientIp, type TrustFunction } from './client-ip.js';
import { NEVER_ABORTED, protocolRequest } from './request.js';

/** On every in.php and res.php answer, here and in the normal route: this server long-polls, up to this many seconds. */
export const LONG_POLL = String(MAX_WAIT_SECONDS);
/** Distinct poll URLs whose parse is remembered (a URL names one task of one key). */
const PARSED_URLS = 20_000;
/** A poll URL is under 200 bytes; longer ones take the normal route, so the memory above stays bounded. */
const MAX_POLL_URL = 1024;

/** What a poll URL asks, when it is one this path may answer. */
interface Poll {
  readonly key: string;
  readonly id: string;
  readonly withPrice: boolean;
  readonly json: boolean;
  readonly acao: boolean;
}

/** The bytes of an answer and the headers that go with them, as a flat [name, value, ...] list. */
export interface FastAnswer {
  readonly body: Buffer;
  readonly headers: readonly string[];
}

export class FastPolls {
  /** URL → its poll, or null for URLs this path never answers. */
  private readonly parsed = new BoundedMap<string, Poll | null>(PARSED_URLS);
  /** A view's rendered answers, by (withPrice, json, acao); views are replaced, never changed. */
  private readonly rendered = new WeakMap<TaskView, (FastAnswer | undefined)[]>();

  constructor(
    private readonly svc: Services,
    private readonly trust: TrustFunction | undefined,
  ) {}

  answer(req: IncomingMessage): FastAnswer | undefined {
    const url = req.url;
    if (req.method !== 'GET' || url === undefined || url.length > MAX_POLL_URL || !url.startsWith('/res.php?')) return undefined;
    // A GET with a body would have its fields merged in: the normal route reads it.
    if (req.headers['content-length'] !== undefined || req.headers['transfer-encoding'] !== undefined) return undefined;
    const { storage, gate } = this.svc;
    if (!storage.peekTask) return undefined;

    let poll = this.parsed.get(url);
    if (poll === undefined) {
      poll = parsePoll(url, this.svc.config.jsonByDefault);
      this.parsed.set(url, poll);
    }
    if (poll === null) return undefined;

    const now = this.svc.clock();
    if (gate.knownBan(clientIp(req, this.trust), now) !== false) return undefined;
    const account = gate.knownAccount(poll.key, now);
    if (!account || !usable(account)) return undefined;
    const task = storage.peekTask(account.id, poll.id, now);
    return task && this.render(task, poll);
  }

  private render(task: TaskView, poll: Poll): FastAnswer {
    let variants = this.rendered.get(task);
    if (!variants) this.rendered.set(task, (variants = []));
    const slot = (poll.withPrice ? 4 : 0) + (poll.json ? 2 : 0) + (poll.acao ? 1 : 0);
    let answer = variants[slot];
    if (!answer) {
      const { body, contentType } = renderReply(taskReply(task, poll.withPrice), poll.json);
      const bytes = Buffer.from(body);
      const headers = ['content-type', contentType, 'content-length', String(bytes.length), LONG_POLL_HEADER, LONG_POLL];
      if (poll.acao) headers.push('access-control-allow-origin', '*');
      variants[slot] = answer = { body: bytes, headers };
    }
    return answer;
  }
}

/** The poll a URL asks for, or null when the normal route must answer it (other actions, `ids`, `wait`, a malformed id). */
function parsePoll(url: string, jsonByDefault: boolean): Poll | null {
  const request = protocolRequest(url, undefined, jsonByDefault, NEVER_ABORTED);
  const fields = request.fields;
  const action = fields.get('action')?.trim();
  if ((action !== 'get' && action !== 'get2') || fields.has('ids') || waitMillis(fields.get(WAIT_PARAM)) > 0) return null;
  const key = fields.get('key');
  const id = requestedTaskId(fields.get('id'));
  if (key === undefined || id === undefined) return null;
  return { key, id, withPrice: action === 'get2', json: request.json, acao: request.acao };
}
