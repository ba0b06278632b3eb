/**
 * Our tasks as the SDK's task inputs, and the SDK's raw answers as our solutions: the relay hands
 * the SDK what a client would have given it, so that the wire format of each upstream dialect (v1
 * parameters, the JSON API's tasks) is the SDK's business, said once.
 */
import { decodeAnswer, type RawAnswer, type TaskInput } from '@solvebox/client';
import { solutionKindFor, WIDGET_METHODS, type Solution, type Task, type TaskSpec } from '@solvebox/protocol';

/** The SDK input that submits the same task upstream. */
export function taskInput(task: Pick<Task, 'spec' | 'proxy'>): TaskInput {
  const spec: TaskSpec = task.spec;
  const proxy = task.proxy ? { proxy: task.proxy } : {};
  switch (spec.type) {
    case 'image':
      // Our hints and proxies have the SDK's shapes: they go as they are.
      return { type: 'image', image: spec.image, hints: spec.hints };
    case 'userrecaptcha':
      return spec.version === 'v3'
        ? {
            type: 'recaptchaV3',
            sitekey: spec.googlekey,
            pageurl: spec.pageurl,
            action: spec.action,
            minScore: spec.minScore,
            enterprise: spec.enterprise || undefined,
            domain: spec.domain,
          }
        : {
            type: 'recaptchaV2',
            sitekey: spec.googlekey,
            pageurl: spec.pageurl,
            invisible: spec.invisible || undefined,
            enterprise: spec.enterprise || undefined,
            dataS: spec.dataS,
            cookies: spec.cookies,
            userAgent: spec.userAgent,
            domain: spec.domain,
            ...proxy,
          };
    case 'turnstile':
      return {
        type: 'turnstile',
        sitekey: spec.sitekey,
        pageurl: spec.pageurl,
        action: spec.action,
        data: spec.data,
        pagedata: spec.pagedata,
        userAgent: spec.userAgent,
        ...proxy,
      };
    case 'cloudflare_challenge':
      if (!proxy.proxy) throw new Error('a Cloudflare challenge task has no proxy');
      return { type: 'cloudflareChallenge', pageurl: spec.pageurl, userAgent: spec.userAgent, proxy: proxy.proxy };
    case 'geetest':
      return {
        type: 'geetest',
        gt: spec.gt,
        challenge: spec.challenge,
        pageurl: spec.pageurl,
        apiServer: spec.apiServer,
        userAgent: spec.userAgent,
        ...proxy,
      };
    case 'bls':
      return { type: 'bls', instructions: spec.instructions, cells: spec.images };
    case 'grid':
      return {
        type: 'grid',
        image: spec.image,
        instructions: spec.instructions,
        rows: spec.rows,
        columns: spec.columns,
        canSkip: spec.canSkip,
      };
    case 'coordinates':
      return { type: 'coordinates', image: spec.image, instructions: spec.instructions };
    case 'rotate':
      return { type: 'rotate', image: spec.image, angle: spec.angle };
    case 'textcaptcha':
      return { type: 'textQuestion', question: spec.question, lang: spec.lang };
    case 'audio':
      return { type: 'audio', audio: spec.audio, lang: spec.lang as Extract<TaskInput, { type: 'audio' }>['lang'] };
    default: {
      // A widget: its key under the parameter name of its method, and the rest as validated.
      const method = WIDGET_METHODS.find((m) => m.type === spec.type);
      if (!method) throw new Error(`no widget method for ${spec.type}`);
      const params = Object.fromEntries(Object.entries(spec.params).map(([k, v]) => [k, typeof v === 'boolean' ? (v ? '1' : '0') : String(v)]));
      return { type: 'widget', method: spec.type, pageurl: spec.pageurl, params: { ...params, [method.key.name]: spec.sitekey }, ...proxy };
    }
  }
}

/** The upstream's raw answer as our solution of the task's kind; throws AnswerFormatError when it does not fit. */
export function solutionOf(spec: TaskSpec, raw: RawAnswer, input: TaskInput): Solution {
  switch (solutionKindFor(spec.type)) {
    case 'text': {
      const text = decodeAnswer('textQuestion', raw.value, raw.extra);
      const agent = raw.extra.user_agent ?? raw.extra.useragent;
      return { kind: 'text', text, ...(typeof agent === 'string' ? { userAgent: agent } : {}) };
    }
    case 'geetest':
      return { kind: 'geetest', ...decodeAnswer('geetest', raw.value, raw.extra) };
    case 'cells':
      return { kind: 'cells', cells: decodeAnswer('bls', raw.value, raw.extra) };
    case 'clearance': {
      const answer = decodeAnswer('cloudflareChallenge', raw.value, raw.extra, input);
      return { kind: 'clearance', cookie: answer.token, userAgent: answer.userAgent };
    }
    case 'object':
      return { kind: 'object', fields: decodeAnswer('geetestV4', raw.value, raw.extra) };
    case 'points':
      return { kind: 'points', points: decodeAnswer('coordinates', raw.value, raw.extra) };
  }
}
