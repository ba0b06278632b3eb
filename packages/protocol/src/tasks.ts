/**
 * Task types, their validated parameters, and the solutions solvers return for them.
 * The wire methods `post` and `base64` both become the task type `image`.
 */

/**
 * Third-party widgets that 2Captcha's v1 API accepts besides reCAPTCHA, Turnstile and GeeTest v3.
 * Solvebox solves none of them itself: it validates and stores them, and routes them to the
 * backend the operator configures (the sandbox by default). Their parameters: params/widgets.ts.
 */
export const WIDGET_TYPES = [
  'hcaptcha',
  'funcaptcha',
  'keycaptcha',
  'capy',
  'lemin',
  'amazon_waf',
  'mt_captcha',
  'cutcaptcha',
  'friendly_captcha',
  'tencent',
  'atb_captcha',
  'datadome',
  'cybersiara',
  'prosopo',
  'captchafox',
  'geetest_v4',
] as const;
export type WidgetType = (typeof WIDGET_TYPES)[number];

/** Image-based tasks other than plain text: a grid to click, points to click, an angle; a text question; audio. */
export const MEDIA_TYPES = ['grid', 'coordinates', 'rotate', 'textcaptcha', 'audio'] as const;
export type MediaType = (typeof MEDIA_TYPES)[number];

export const TASK_TYPES = ['image', 'userrecaptcha', 'turnstile', 'cloudflare_challenge', 'geetest', 'bls', ...WIDGET_TYPES, ...MEDIA_TYPES] as const;
export type TaskType = (typeof TASK_TYPES)[number];

/** Token tasks get the long deadline and the long first-poll delay; image-like tasks the short ones. */
export const TOKEN_TASK_TYPES: readonly TaskType[] = ['userrecaptcha', 'turnstile', 'cloudflare_challenge', 'geetest', ...WIDGET_TYPES];

export function isWidgetType(type: string): type is WidgetType {
  return (WIDGET_TYPES as readonly string[]).includes(type);
}

export function isWidgetTask(spec: TaskSpec): spec is WidgetTask {
  return isWidgetType(spec.type);
}

export function isTaskType(value: string): value is TaskType {
  return (TASK_TYPES as readonly string[]).includes(value);
}

export function isTokenTask(type: TaskType): boolean {
  return TOKEN_TASK_TYPES.includes(type);
}

export type ImageFormat = 'jpeg' | 'png' | 'gif';

/** What the caller told us about the expected answer of a normal image captcha. */
export interface ImageHints {
  /** `phrase=1`: the answer contains at least two words. */
  readonly phrase: boolean;
  /** `regsense=1`: the answer is case-sensitive. */
  readonly caseSensitive: boolean;
  /** `numeric`: 0 any, 1 digits only, 2 letters only, 3 digits or letters, 4 digits and letters. */
  readonly numeric: 0 | 1 | 2 | 3 | 4;
  /** `calc=1`: the image shows arithmetic and the answer is its result. */
  readonly calc: boolean;
  /** `min_len`, 0 = no minimum. */
  readonly minLength: number;
  /** `max_len`, 0 = no maximum. */
  readonly maxLength: number;
  /** `language`: 0 unspecified, 1 Cyrillic, 2 Latin. */
  readonly language: 0 | 1 | 2;
  /** `lang`: worker language code. */
  readonly lang?: string;
  /** `textinstructions`: a text hint, at most 140 characters. */
  readonly instructions?: string;
}

/** An image task sent with none of the hint parameters: any characters, any length, case ignored. */
export const NO_IMAGE_HINTS: ImageHints = { phrase: false, caseSensitive: false, numeric: 0, calc: false, minLength: 0, maxLength: 0, language: 0 };

export interface ImageTask {
  readonly type: 'image';
  readonly image: Uint8Array;
  readonly format: ImageFormat;
  readonly hints: ImageHints;
}

export interface RecaptchaTask {
  readonly type: 'userrecaptcha';
  readonly googlekey: string;
  readonly pageurl: string;
  readonly version: 'v2' | 'v3';
  readonly action?: string;
  readonly minScore?: number;
  readonly enterprise: boolean;
  readonly invisible: boolean;
  readonly domain?: 'google.com' | 'recaptcha.net';
  readonly dataS?: string;
  readonly cookies?: string;
  readonly userAgent?: string;
}

export interface TurnstileTask {
  readonly type: 'turnstile';
  readonly sitekey: string;
  readonly pageurl: string;
  readonly action?: string;
  readonly data?: string;
  readonly pagedata?: string;
  readonly userAgent?: string;
}

export interface CloudflareChallengeTask {
  readonly type: 'cloudflare_challenge';
  readonly pageurl: string;
  readonly userAgent?: string;
}

export interface GeetestTask {
  readonly type: 'geetest';
  readonly gt: string;
  readonly challenge: string;
  readonly pageurl: string;
  readonly apiServer?: string;
  readonly offline: boolean;
  readonly newCaptcha: boolean;
  readonly userAgent?: string;
}

export interface BlsTask {
  readonly type: 'bls';
  /** The number the caller must select, e.g. `664`. */
  readonly instructions: string;
  /** The nine cells, left to right and top to bottom; or one whole-grid image when the `body` alias was used. */
  readonly images: readonly Uint8Array[];
}

/** A third-party widget: the page, the value that identifies the widget there, and the method's other parameters. */
export interface WidgetTask {
  readonly type: WidgetType;
  readonly pageurl: string;
  /** The widget's key on the page (`sitekey`, `publickey`, `captcha_id`, ...): with `pageurl`, the pair a bad-pair report refers to. */
  readonly sitekey: string;
  /** The method's other validated parameters, by their wire names; `data[...]` fields of FunCaptcha as they came. */
  readonly params: Readonly<Record<string, string | number | boolean>>;
}

/** A grid (`recaptcha=1`) or click-points (`coordinatescaptcha=1`) image, or one to turn upright (`rotatecaptcha`). */
export interface PictureTask {
  readonly type: 'grid' | 'coordinates' | 'rotate';
  readonly image: Uint8Array;
  readonly format: ImageFormat;
  /** What to click, as text (`textinstructions`). */
  readonly instructions?: string;
  /** What to click, as an image (`imginstructions`). */
  readonly instructionsImage?: Uint8Array;
  /** Grid only: its rows and columns, when the caller knows them. */
  readonly rows?: number;
  readonly columns?: number;
  /** Grid only: the caller allows the answer "no matching images" (`can_no_answer=1`). */
  readonly canSkip?: boolean;
  /** Rotate only: degrees per step of the widget's control. Default 40. */
  readonly angle?: number;
  readonly lang?: string;
}

/** A question in text (`textcaptcha`), answered in text. */
export interface TextQuestionTask {
  readonly type: 'textcaptcha';
  readonly question: string;
  readonly lang?: string;
}

/** A spoken captcha: base64 MP3 in `body`, and its language. */
export interface AudioTask {
  readonly type: 'audio';
  readonly audio: Uint8Array;
  readonly lang: string;
}

export type TaskSpec =
  | ImageTask
  | RecaptchaTask
  | TurnstileTask
  | CloudflareChallengeTask
  | GeetestTask
  | BlsTask
  | WidgetTask
  | PictureTask
  | TextQuestionTask
  | AudioTask;

export type ProxyType = 'HTTP' | 'HTTPS' | 'SOCKS4' | 'SOCKS5';

export interface Proxy {
  readonly type: ProxyType;
  readonly host: string;
  readonly port: number;
  readonly login?: string;
  readonly password?: string;
}

/** A task as a solver sees it. */
export interface Task {
  readonly id: string;
  readonly spec: TaskSpec;
  readonly proxy?: Proxy;
  /** 1 for the first attempt. */
  readonly attempt: number;
  /** Epoch milliseconds after which the answer is no longer wanted. */
  readonly deadlineAt: number;
}

/** The images a task carries (checked for their header and size at submit). */
export function imagesOf(spec: TaskSpec): readonly Uint8Array[] {
  switch (spec.type) {
    case 'image':
      return [spec.image];
    case 'bls':
      return spec.images;
    case 'grid':
    case 'coordinates':
    case 'rotate':
      return spec.instructionsImage === undefined ? [spec.image] : [spec.image, spec.instructionsImage];
    default:
      return [];
  }
}

/** The sitekey/pageurl pair of a token task, the unit that ERROR_BAD_TOKEN_OR_PAGEURL refers to. */
export function sitekeyPair(spec: TaskSpec): { readonly sitekey: string; readonly pageurl: string } | undefined {
  switch (spec.type) {
    case 'userrecaptcha':
      return { sitekey: spec.googlekey, pageurl: spec.pageurl };
    case 'turnstile':
      return { sitekey: spec.sitekey, pageurl: spec.pageurl };
    case 'geetest':
      return { sitekey: spec.gt, pageurl: spec.pageurl };
    default:
      return isWidgetTask(spec) ? { sitekey: spec.sitekey, pageurl: spec.pageurl } : undefined;
  }
}

// ---- solutions ---------------------------------------------------------------------------------

/** A text answer: the letters of an image, or a token. Turnstile challenge pages also bind the user agent. */
export interface TextSolution {
  readonly kind: 'text';
  readonly text: string;
  readonly userAgent?: string;
}

export interface GeetestSolution {
  readonly kind: 'geetest';
  readonly challenge: string;
  readonly validate: string;
  readonly seccode: string;
}

/** BLS: the 1-based indices of the cells to select. */
export interface CellsSolution {
  readonly kind: 'cells';
  readonly cells: readonly number[];
}

/** Cloudflare challenge: the `cf_clearance` cookie, valid only with this user agent and the task's proxy IP. */
export interface ClearanceSolution {
  readonly kind: 'clearance';
  readonly cookie: string;
  readonly userAgent: string;
}

/** An answer that is a JSON object (Capy, Lemin, Amazon WAF, Tencent, GeeTest v4), with the field names the vendors document. */
export interface ObjectSolution {
  readonly kind: 'object';
  readonly fields: Readonly<Record<string, string>>;
}

/** Coordinates: the points to click, in image pixels from the top left. */
export interface PointsSolution {
  readonly kind: 'points';
  readonly points: readonly { readonly x: number; readonly y: number }[];
}

export type Solution = TextSolution | GeetestSolution | CellsSolution | ClearanceSolution | ObjectSolution | PointsSolution;

/** Widgets whose answer is a JSON object; the other widgets answer a token (or, DataDome, a cookie) as text. */
export const OBJECT_ANSWER_WIDGETS: readonly WidgetType[] = ['capy', 'lemin', 'amazon_waf', 'tencent', 'geetest_v4'];

const SOLUTION_KIND: Record<TaskType, Solution['kind']> = {
  image: 'text',
  userrecaptcha: 'text',
  turnstile: 'text',
  cloudflare_challenge: 'clearance',
  geetest: 'geetest',
  bls: 'cells',
  ...(Object.fromEntries(WIDGET_TYPES.map((t) => [t, OBJECT_ANSWER_WIDGETS.includes(t) ? 'object' : 'text'])) as Record<WidgetType, Solution['kind']>),
  // The grid answer is text, `click:3/6/8`, as 2Captcha sends it; a rotation is its angle in degrees.
  grid: 'text',
  coordinates: 'points',
  rotate: 'text',
  textcaptcha: 'text',
  audio: 'text',
};

/** The kind of solution a task type must be answered with. */
export function solutionKindFor(type: TaskType): Solution['kind'] {
  return SOLUTION_KIND[type];
}
