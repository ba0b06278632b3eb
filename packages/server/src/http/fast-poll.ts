/**
 * The fast path of the hottest request: a `res.php` `get` or `get2` poll whose every input is
 * already in memory (the IP known not to be banned, the key's account cached, the task's view in
 * the storage adapter's cache). It is answered straight from the HTTP server's request event,
 * before the framework routes it, with the same reply function as the normal route. Anything
 * else, including any cache miss, returns undefined and takes the normal route, which gives the
 * same answer; so this path changes speed, never behaviour.
 */
import type { IncomingMessage } from 'node:http';
import { waitMillis, WAIT_PARAM, type Reply } from '@solvebox/protocol';
import { usable } from '../gatekeeper.js';
import { requestedTaskId, taskReply } from '../routes/results.js';
import type { Services } from '../services.js';
import { clientIp, type TrustFunction } from './client-ip.js';
import { protocolRequest } from './request.js';

const NEVER = new AbortController().signal;

export interface FastAnswer {
  readonly reply: Reply;
  readonly json: boolean;
  readonly acao: boolean;
}

export function answerFromMemory(req: IncomingMessage, svc: Services, trust: TrustFunction | undefined): FastAnswer | undefined {
  const url = req.url;
  if (req.method !== 'GET' || url === undefined || !url.startsWith('/res.php?')) return undefined;
  // A GET with a body would have its fields merged in: the normal route reads it.
  if (req.headers['content-length'] !== undefined || req.headers['transfer-encoding'] !== undefined) return undefined;
  const peekTask = svc.storage.peekTask?.bind(svc.storage);
  if (!peekTask) return undefined;

  const request = protocolRequest(url, undefined, svc.config.jsonByDefault, NEVER);
  const fields = request.fields;
  const action = fields.get('action')?.trim();
  if ((action !== 'get' && action !== 'get2') || fields.has('ids') || waitMillis(fields.get(WAIT_PARAM)) > 0) return undefined;

  const now = svc.clock();
  if (svc.gate.knownBan(clientIp(req, trust), now) !== false) return undefined;
  const key = fields.get('key');
  const account = key === undefined ? undefined : svc.gate.knownAccount(key, now);
  if (!account || !usable(account)) return undefined;
  const id = requestedTaskId(fields.get('id'));
  const task = id === undefined ? undefined : peekTask(account.id, id, now);
  if (!task) return undefined;
  return { reply: taskReply(task, action === 'get2'), json: request.json, acao: request.acao };
}
