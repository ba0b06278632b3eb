/**
 * The v1 methods for pictures that are not read as text (a grid to click, points to click, an
 * image to turn upright), a question in text, and audio. 2Captcha selects the first two with
 * flags on `method=post`/`base64` (`recaptcha=1`, `coordinatescaptcha=1`), and a text question
 * with `textcaptcha` and no method: `resolveMethod` maps those requests to the methods here.
 */
import type { PictureTask } from '../tasks.js';
import type { ParamSpec, ParamValues, RequestParams } from './fields.js';
import { checkImage, decodeImageBase64, imageFromBase64 } from './images.js';
import type { BuildContext, MethodSpec } from './method-spec.js';
import { fail, type Failure } from './result.js';
import { LANG_CODES } from './languages.js';

const IMAGE_PARAM: ParamSpec = {
  name: 'file or body',
  type: { kind: 'image', encoding: 'multipart' },
  required: true,
  missingCode: 'ERROR_UPLOAD',
  doc: 'The image (JPEG, PNG or GIF): a multipart file part named `file`, or base64 in `body`.',
};

const INSTRUCTIONS: ParamSpec = { name: 'textinstructions', type: { kind: 'text', maxLength: 140 }, doc: 'What to do, in text, at most 140 characters.' };
const IMAGE_INSTRUCTIONS: ParamSpec = {
  name: 'imginstructions',
  type: { kind: 'image', encoding: 'base64' },
  doc: 'What to do, as an image: a multipart file part, or base64.',
};
const LANG: ParamSpec = { name: 'lang', type: { kind: 'choice', values: LANG_CODES, ignoreCase: true }, doc: 'Language of the instructions, e.g. `en`.' };

/** The picture: the `file` part when there is one, else base64 `body`. */
function pictureOf(ctx: BuildContext): { ok: true; bytes: Uint8Array; format: PictureTask['format'] } | Failure {
  const file = ctx.request.files.get('file');
  if (file !== undefined) {
    const checked = checkImage(file.data, ctx.limits, file.filename ?? '', 'the image');
    return checked.ok ? { ok: true, bytes: file.data, format: checked.format } : checked;
  }
  const body = ctx.request.fields.get('body');
  if (body === undefined || body.trim() === '') return fail('ERROR_UPLOAD', 'send the image as a multipart `file` part or as base64 in `body`');
  return imageFromBase64(body, ctx.limits, ctx.decodeBase64, 'the image');
}

/** `imginstructions`, as a file part or base64; undefined when absent. */
function instructionImageOf(ctx: BuildContext): { ok: true; bytes?: Uint8Array } | Failure {
  const file = ctx.request.files.get('imginstructions');
  if (file !== undefined) {
    const checked = checkImage(file.data, ctx.limits, file.filename ?? '', '`imginstructions`');
    return checked.ok ? { ok: true, bytes: file.data } : checked;
  }
  const text = ctx.request.fields.get('imginstructions');
  if (text === undefined || text.trim() === '') return { ok: true };
  const image = imageFromBase64(text, ctx.limits, ctx.decodeBase64, '`imginstructions`');
  return image.ok ? { ok: true, bytes: image.bytes } : image;
}

function picture(type: PictureTask['type'], values: ParamValues, ctx: BuildContext, needsInstructions: boolean): { ok: true; spec: PictureTask } | Failure {
  const instructions = values.text('textinstructions');
  const hint = instructionImageOf(ctx);
  if (!hint.ok) return hint;
  if (needsInstructions && instructions === undefined && hint.bytes === undefined) {
    return fail('ERROR_BAD_PARAMETERS', 'send what to click in `textinstructions` or `imginstructions`');
  }
  const image = pictureOf(ctx);
  if (!image.ok) return image;
  const rows = values.number('recaptcharows');
  const columns = values.number('recaptchacols');
  const angle = values.number('angle');
  const lang = values.text('lang');
  return {
    ok: true,
    spec: {
      type,
      image: image.bytes,
      format: image.format,
      ...(instructions === undefined ? {} : { instructions }),
      ...(hint.bytes === undefined ? {} : { instructionsImage: hint.bytes }),
      ...(rows === undefined ? {} : { rows }),
      ...(columns === undefined ? {} : { columns }),
      ...(type === 'grid' ? { canSkip: values.flag('can_no_answer') } : {}),
      ...(angle === undefined ? {} : { angle }),
      ...(lang === undefined ? {} : { lang }),
    },
  };
}

const AUDIO_LANGUAGES = ['en', 'ru', 'de', 'el', 'pt', 'fr'] as const;
/** 2Captcha's limit for audio. */
export const MAX_AUDIO_BYTES = 1024 * 1024;

/** MP3: an ID3 tag, or an MPEG audio frame's sync bits. */
function isMp3(bytes: Uint8Array): boolean {
  if (bytes.length >= 3 && bytes[0] === 0x49 && bytes[1] === 0x44 && bytes[2] === 0x33) return true;
  return bytes.length >= 2 && bytes[0] === 0xff && ((bytes[1] as number) & 0xe0) === 0xe0;
}

export const MEDIA_METHODS: readonly MethodSpec[] = [
  {
    method: 'grid',
    alsoSelectedBy: '`method=post` or `method=base64` with `recaptcha=1`',
    type: 'grid',
    summary: 'A grid of pictures to click (reCAPTCHA-style); answers the cells as `click:3/6/8`, numbered from 1, left to right, top to bottom.',
    proxyRequired: false,
    params: [
      IMAGE_PARAM,
      INSTRUCTIONS,
      IMAGE_INSTRUCTIONS,
      { name: 'recaptcharows', type: { kind: 'int', min: 1, max: 10 }, doc: 'Rows of the grid.' },
      { name: 'recaptchacols', type: { kind: 'int', min: 1, max: 10 }, doc: 'Columns of the grid.' },
      { name: 'can_no_answer', type: { kind: 'flag' }, doc: '1: there may be no matching cell; the answer is then `No_matching_images`.' },
      {
        name: 'previousID',
        type: { kind: 'text', maxLength: 32, pattern: /^[0-9]+$/, patternDoc: 'a task id' },
        doc: 'The id of an earlier task on the same challenge.',
      },
      LANG,
    ],
    build: (values, ctx) => picture('grid', values, ctx, true),
  },
  {
    method: 'coordinates',
    alsoSelectedBy: '`method=post` or `method=base64` with `coordinatescaptcha=1`',
    type: 'coordinates',
    summary: 'Points to click on an image; answers `coordinates:x=39,y=59;x=252,y=72` (JSON: a list of `{"x","y"}`), in pixels from the top left.',
    proxyRequired: false,
    params: [IMAGE_PARAM, INSTRUCTIONS, IMAGE_INSTRUCTIONS, LANG],
    build: (values, ctx) => picture('coordinates', values, ctx, false),
  },
  {
    method: 'rotatecaptcha',
    type: 'rotate',
    summary: 'An image to turn upright; answers the angle in degrees, clockwise.',
    proxyRequired: false,
    params: [
      IMAGE_PARAM,
      { name: 'angle', type: { kind: 'int', min: 1, max: 360 }, doc: "Degrees per step of the widget's control. Default 40." },
      INSTRUCTIONS,
      IMAGE_INSTRUCTIONS,
      LANG,
    ],
    build: (values, ctx) => picture('rotate', values, ctx, false),
  },
  {
    method: 'textcaptcha',
    alsoSelectedBy: '`textcaptcha` without a method, or with `method=post`',
    type: 'textcaptcha',
    summary: 'A question in text, e.g. "If tomorrow is Saturday, what day is today?"; answers text.',
    proxyRequired: false,
    params: [{ name: 'textcaptcha', type: { kind: 'text', maxLength: 140 }, required: true, doc: 'The question, at most 140 characters.' }, LANG],
    build(values) {
      const lang = values.text('lang');
      return { ok: true, spec: { type: 'textcaptcha', question: values.text('textcaptcha') as string, ...(lang === undefined ? {} : { lang }) } };
    },
  },
  {
    method: 'audio',
    type: 'audio',
    summary: 'A spoken captcha in MP3; answers the words or digits said.',
    proxyRequired: false,
    params: [
      {
        name: 'body',
        type: { kind: 'image', encoding: 'base64' },
        required: true,
        missingCode: 'ERROR_UPLOAD',
        doc: `The MP3 as base64, at most ${MAX_AUDIO_BYTES / 1024} kB.`,
      },
      { name: 'lang', type: { kind: 'choice', values: AUDIO_LANGUAGES }, required: true, doc: `Language spoken: ${AUDIO_LANGUAGES.join(', ')}.` },
    ],
    build(values, ctx) {
      const body = ctx.request.fields.get('body');
      if (body === undefined || body.trim() === '') return fail('ERROR_UPLOAD', '`body` is missing or empty');
      const audio = decodeImageBase64(body, ctx.decodeBase64);
      if (audio === undefined) return fail('ERROR_UPLOAD', '`body` is not valid base64');
      if (audio.length < ctx.limits.minBytes)
        return fail('ERROR_ZERO_CAPTCHA_FILESIZE', `the audio has ${audio.length} bytes; the minimum is ${ctx.limits.minBytes}`);
      if (audio.length > MAX_AUDIO_BYTES)
        return fail('ERROR_TOO_BIG_CAPTCHA_FILESIZE', `the audio has ${audio.length} bytes; the maximum is ${MAX_AUDIO_BYTES}`);
      if (!isMp3(audio)) return fail('ERROR_BAD_PARAMETERS', 'the audio is not an MP3');
      return { ok: true, spec: { type: 'audio', audio, lang: values.text('lang') as string } };
    },
  },
];

/**
 * The method a request asks for: `method`, except where 2Captcha selects one with a flag.
 * A text question needs no method; grids and click-points are images with a flag.
 */
export function resolveMethod(request: RequestParams): string {
  const method = request.fields.get('method')?.trim() ?? '';
  const present = (name: string): boolean => (request.fields.get(name)?.trim() ?? '') !== '';
  const on = (name: string): boolean => request.fields.get(name)?.trim() === '1';
  if ((method === '' || method === 'post') && present('textcaptcha')) return 'textcaptcha';
  if (method === 'post' || method === 'base64') {
    if (on('coordinatescaptcha')) return 'coordinates';
    if (on('recaptcha')) return 'grid';
  }
  return method;
}
