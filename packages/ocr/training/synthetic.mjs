/**
 * Our own synthetic captcha renderer. Accuracy on captchas nobody here wrote comes from variety,
 * so every image draws its own mix of the ways real generators disguise text: many fonts and
 * sizes, rotated, sheared, warped (sine, wave, perspective, elastic), overlapping and touching
 * characters, hollow and outlined glyphs, strike lines, arcs and curves, dot and salt noise, grids
 * and textures, colour backgrounds, blur and JPEG artefacts.
 *
 * Deterministic: the same rng sequence renders the same image. Fonts come from Debian packages
 * (train.sh installs them); the list is sorted so that font choice is stable too.
 */
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { createCanvas, GlobalFonts } from '@napi-rs/canvas';

const FONT_ROOT = '/usr/share/fonts';
/** Symbol, maths and dingbat faces draw no letters. */
const NOT_TEXT = /math|symbol|dingbat|emoji|z003|d050000l|sym|music|icons|hairline|thin|extralight/i;
/**
 * The faces the benchmark's never-trained-on families draw with (Debian's Gregwar/Captcha and
 * django-simple-captcha, whose packages install them): never rendered here, whatever else is
 * installed, so that the benchmark measures reading in general and not these fonts.
 */
export const UNSEEN_FAMILY_FONTS =
  /\/(Cantarell-Regular\.otf|Lato-Medium\.ttf|LinLibertine_R\.otf|Quicksand-[^/]*|RadisSans-[^/]*|StayPuft\.ttf|summersby\.ttf|Vera[^/]*\.ttf)$/i;

function fontFiles(dir) {
  let files = [];
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) files = files.concat(fontFiles(path));
    else if (/\.(ttf|otf)$/i.test(name) && !NOT_TEXT.test(path) && !UNSEEN_FAMILY_FONTS.test(path)) files.push(path);
  }
  return files;
}

export const FONTS = fontFiles(FONT_ROOT).map((path, i) => {
  GlobalFonts.registerFromPath(path, `synth${i}`);
  return `synth${i}`;
});
if (FONTS.length < 20) throw new Error(`only ${FONTS.length} fonts under ${FONT_ROOT}; run training/train.sh, which installs them`);

/** Mixed-case answers leave out characters that most fonts draw alike (0/O/o, 1/l/I), as real generators do. */
const MIXED = '23456789abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ';
const DIGITS = '0123456789';
const LOWER = 'abcdefghijklmnopqrstuvwxyz';
const UPPER = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
/** Many generators keep the look-alikes: the model must tell O from 0 and l from 1 by their shapes. */
const EVERYTHING = DIGITS + LOWER + UPPER;
const LOWER_DIGITS = DIGITS + LOWER;

const pick = (rng, items) => items[Math.floor(rng() * items.length)];
const between = (rng, lo, hi) => lo + rng() * (hi - lo);
const int = (rng, lo, hi) => Math.floor(between(rng, lo, hi + 1));
const chance = (rng, p) => rng() < p;

function randomText(rng, alphabet, length) {
  let text = '';
  for (let i = 0; i < length; i += 1) text += pick(rng, alphabet);
  return text;
}

/** The answer: mostly mixed case, some single-case or digits, some arithmetic (`calc`) and two-word (`phrase`) ones. */
function answer(rng) {
  const roll = rng();
  const length = int(rng, 4, 8);
  if (roll < 0.38) return randomText(rng, MIXED, length);
  if (roll < 0.52) return randomText(rng, EVERYTHING, length);
  if (roll < 0.62) return randomText(rng, DIGITS, length);
  if (roll < 0.72) return randomText(rng, LOWER, length);
  if (roll < 0.8) return randomText(rng, LOWER_DIGITS, length);
  if (roll < 0.88) return randomText(rng, UPPER, length);
  if (roll < 0.94) {
    const op = pick(rng, '+-*');
    const a = int(rng, 1, op === '*' ? 12 : 99);
    const b = int(rng, 1, op === '*' ? 12 : 99);
    return `${a}${op}${b}${chance(rng, 0.4) ? '=' : ''}${chance(rng, 0.2) ? '?' : ''}`.slice(0, 8);
  }
  const first = int(rng, 2, 4);
  const alphabet = pick(rng, [MIXED, LOWER, DIGITS]);
  return `${randomText(rng, alphabet, first)} ${randomText(rng, alphabet, int(rng, 2, 7 - first))}`;
}

function luminance([r, g, b]) {
  return 0.299 * r + 0.587 * g + 0.114 * b;
}

const rgb = ([r, g, b], alpha = 1) => `rgba(${r | 0},${g | 0},${b | 0},${alpha})`;

/**
 * Text must stay readable to a person: an image nobody can read has no right answer, and
 * training on it only teaches the model to guess. So the text colour is drawn until it is at least
 * MIN_CONTRAST apart from the background in luminance, and the background's gradient and texture
 * (BACKGROUND_DRIFT) may not eat more than a fraction of that margin.
 */
const MIN_CONTRAST = 120;
const BACKGROUND_DRIFT = 40;

/** A background colour and a text colour at least MIN_CONTRAST apart in luminance. */
function colours(rng) {
  const style = rng();
  const random = (lo, hi) => [between(rng, lo, hi), between(rng, lo, hi), between(rng, lo, hi)];
  let background;
  if (style < 0.55) background = random(200, 255);
  else if (style < 0.75) background = random(120, 255);
  else if (style < 0.88) background = random(0, 90);
  else background = [int(rng, 0, 255), int(rng, 0, 255), int(rng, 0, 255)];
  for (;;) {
    const text = chance(rng, 0.5) ? random(0, 255) : luminance(background) > 128 ? random(0, 110) : random(150, 255);
    if (Math.abs(luminance(text) - luminance(background)) > MIN_CONTRAST) return { background, text };
  }
}

function paintBackground(rng, ctx, width, height, bg) {
  ctx.fillStyle = rgb(bg);
  ctx.fillRect(0, 0, width, height);
  if (chance(rng, 0.3)) {
    const gradient = ctx.createLinearGradient(0, 0, width, height);
    gradient.addColorStop(0, rgb(bg.map((c) => c + between(rng, -BACKGROUND_DRIFT, BACKGROUND_DRIFT))));
    gradient.addColorStop(1, rgb(bg.map((c) => c + between(rng, -BACKGROUND_DRIFT, BACKGROUND_DRIFT))));
    ctx.fillStyle = gradient;
    ctx.fillRect(0, 0, width, height);
  }
  if (chance(rng, 0.3)) {
    // Texture: soft blobs of nearby colours.
    for (let i = int(rng, 10, 60); i > 0; i -= 1) {
      ctx.fillStyle = rgb(
        bg.map((c) => c + between(rng, -BACKGROUND_DRIFT, BACKGROUND_DRIFT)),
        between(rng, 0.2, 0.6),
      );
      ctx.beginPath();
      ctx.arc(between(rng, 0, width), between(rng, 0, height), between(rng, 2, height / 3), 0, Math.PI * 2);
      ctx.fill();
    }
  }
  if (chance(rng, 0.2)) {
    ctx.strokeStyle = rgb(
      bg.map((c) => c + between(rng, -90, 90)),
      between(rng, 0.4, 1),
    );
    ctx.lineWidth = between(rng, 0.5, 1.5);
    const step = between(rng, 6, 16);
    ctx.beginPath();
    for (let x = between(rng, 0, step); x < width; x += step) ctx.moveTo(x, 0), ctx.lineTo(x + between(rng, -4, 4), height);
    for (let y = between(rng, 0, step); y < height; y += step) ctx.moveTo(0, y), ctx.lineTo(width, y + between(rng, -4, 4));
    ctx.stroke();
  }
}

/**
 * `tight`: the text fills the image edge to edge, as generators that size the image to the text
 * do; characters may be cut at the borders, a little, as they are there.
 */
function paintText(rng, ctx, text, width, height, fg, bg, tight) {
  const font = pick(rng, FONTS);
  const perCharFont = chance(rng, 0.15);
  const weight = chance(rng, 0.35) ? 'bold ' : '';
  const italic = chance(rng, 0.15) ? 'italic ' : '';
  // Tight text may reach past the top and bottom, cut as generators that crop to the text cut it.
  let size = height * (tight ? between(rng, 0.7, 1.05) : between(rng, 0.5, 0.85));
  // Below ~0.9 neighbours touch or overlap; some generators pack them tighter still.
  const spacing = chance(rng, 0.15) ? between(rng, 0.6, 0.8) : between(rng, 0.72, 1.15);
  const maxRotation = pick(rng, tight ? [0.25, 0.45, 0.6, 0.7] : [0, 0.1, 0.25, 0.45, 0.6]);
  const fonts = [...text].map(() => (perCharFont ? pick(rng, FONTS) : font));
  const setFont = (i, px) => (ctx.font = `${italic}${weight}${px.toFixed(1)}px ${fonts[i]}`);
  const advances = () => [...text].map((ch, i) => (setFont(i, size), ctx.measureText(ch).width * spacing));
  let widths = advances();
  let total = widths.reduce((a, b) => a + b, 0);
  const room = width * (tight ? between(rng, 0.92, 1.04) : between(rng, 0.7, 0.94));
  if (total > room) {
    size *= room / total;
    widths = advances();
    total = widths.reduce((a, b) => a + b, 0);
  }
  let x = tight ? (width - total) / 2 + between(rng, -0.03, 0.03) * width : (width - total) / 2 + between(rng, -0.5, 0.5) * (width - total) * 0.6;
  // Glyphs: filled; hollow (outline only); or outlined, filled with the background's colour.
  const style = pick(rng, ['fill', 'fill', 'fill', 'fill', 'fill', 'fill', 'fill', 'hollow', 'outlined']);
  const strokeWidth = between(rng, 1, Math.max(1.5, size / 14));
  // Per-character affine: each glyph sheared and stretched its own way.
  const affine = chance(rng, 0.35);
  const colourPerChar = chance(rng, 0.3);
  const baseline = height / 2 + between(rng, -0.08, 0.08) * height;
  [...text].forEach((ch, i) => {
    const advance = widths[i] ?? 0;
    ctx.save();
    ctx.translate(x + advance / 2, baseline + between(rng, -0.1, 0.1) * height);
    ctx.rotate(between(rng, -maxRotation, maxRotation));
    if (affine) {
      ctx.transform(1, between(rng, -0.25, 0.25), between(rng, -0.45, 0.45), 1, 0, 0);
      ctx.scale(between(rng, 0.75, 1.2), between(rng, 0.8, 1.15));
    }
    setFont(i, size * between(rng, 0.92, 1.08));
    ctx.textAlign = 'center';
    ctx.textBaseline = 'middle';
    const colour = colourPerChar ? fg.map((c) => c + between(rng, -30, 30)) : fg;
    if (style === 'hollow') {
      ctx.strokeStyle = rgb(colour);
      ctx.lineWidth = between(rng, 1, 2);
      ctx.strokeText(ch, 0, 0);
    } else if (style === 'outlined') {
      ctx.strokeStyle = rgb(colour);
      ctx.lineWidth = strokeWidth * 2;
      ctx.strokeText(ch, 0, 0);
      ctx.fillStyle = rgb(bg);
      ctx.fillText(ch, 0, 0);
    } else {
      ctx.fillStyle = rgb(colour);
      ctx.fillText(ch, 0, 0);
    }
    ctx.restore();
    x += advance;
  });
}

function paintClutter(rng, ctx, width, height, fg) {
  for (let i = pick(rng, [0, 0, 1, 1, 2, 3]); i > 0; i -= 1) {
    ctx.strokeStyle = chance(rng, 0.6) ? rgb(fg) : rgb([int(rng, 0, 255), int(rng, 0, 255), int(rng, 0, 255)]);
    ctx.lineWidth = between(rng, 0.8, 2.5);
    ctx.beginPath();
    ctx.moveTo(between(rng, 0, width * 0.2), between(rng, 0, height));
    if (chance(rng, 0.4)) ctx.lineTo(between(rng, width * 0.8, width), between(rng, 0, height));
    else
      ctx.bezierCurveTo(
        between(rng, 0, width),
        between(rng, -height, 2 * height),
        between(rng, 0, width),
        between(rng, -height, 2 * height),
        between(rng, width * 0.8, width),
        between(rng, 0, height),
      );
    ctx.stroke();
  }
  // Dense speckle covers a share of the whole area (up to about a tenth), whatever the size.
  const dots = chance(rng, 0.15) ? Math.round(width * height * between(rng, 0.02, 0.1)) : pick(rng, [0, 0, 30, 100, 250]);
  for (let i = 0; i < dots; i += 1) {
    ctx.fillStyle = chance(rng, 0.5) ? rgb(fg, between(rng, 0.3, 1)) : rgb([int(rng, 0, 255), int(rng, 0, 255), int(rng, 0, 255)], between(rng, 0.3, 1));
    ctx.beginPath();
    ctx.arc(between(rng, 0, width), between(rng, 0, height), between(rng, 0.4, 1.6), 0, Math.PI * 2);
    ctx.fill();
  }
}

/**
 * Lines and arcs through the text band itself (clutter lines cross the whole image at random):
 * in the text's colour, thicker than a hairline, or in the background's, cutting the glyphs.
 */
function strikeThrough(rng, ctx, width, height, fg, bg) {
  for (let i = int(rng, 1, 3); i > 0; i -= 1) {
    ctx.strokeStyle = chance(rng, 0.7) ? rgb(fg) : rgb(bg);
    ctx.lineWidth = between(rng, 1, Math.max(1.5, height * 0.07));
    ctx.beginPath();
    if (chance(rng, 0.5)) {
      // An arc of a large circle, entering and leaving through the text band.
      const radius = between(rng, width * 0.4, width * 1.5);
      const cx = between(rng, width * 0.2, width * 0.8);
      const cy = height / 2 + (chance(rng, 0.5) ? radius : -radius) * between(rng, 0.85, 1);
      const half = Math.min(Math.PI / 2, width / radius);
      const centre = cy > height / 2 ? -Math.PI / 2 : Math.PI / 2;
      ctx.arc(cx, cy, radius, centre - half, centre + half);
    } else {
      const y0 = height * between(rng, 0.3, 0.7);
      ctx.moveTo(0, y0);
      ctx.quadraticCurveTo(width / 2, y0 + between(rng, -0.4, 0.4) * height, width, height * between(rng, 0.3, 0.7));
    }
    ctx.stroke();
  }
}

/** Moves every pixel: `from(x, y)` names the source pixel of (x, y); outside the image, the nearest edge. */
function remap(source, width, height, from) {
  const input = source.getContext('2d').getImageData(0, 0, width, height);
  const target = createCanvas(width, height);
  const ctx = target.getContext('2d');
  const output = ctx.createImageData(width, height);
  const point = [0, 0];
  for (let y = 0; y < height; y += 1) {
    for (let x = 0; x < width; x += 1) {
      from(x, y, point);
      const sx = Math.min(width - 1, Math.max(0, Math.round(point[0])));
      const sy = Math.min(height - 1, Math.max(0, Math.round(point[1])));
      const i = (sy * width + sx) * 4;
      const o = (y * width + x) * 4;
      output.data[o] = input.data[i];
      output.data[o + 1] = input.data[i + 1];
      output.data[o + 2] = input.data[i + 2];
      output.data[o + 3] = 255;
    }
  }
  ctx.putImageData(output, 0, 0);
  return target;
}

/**
 * Perspective: the image as seen at a slant. The output's corners come from a quadrilateral whose
 * corners are the source's, each moved a little (the square-to-quad projective map, Heckbert 1989).
 */
function perspective(rng, source, width, height) {
  const jitter = (v, span) => v + between(rng, -span, span);
  const sx = 0.12,
    sy = 0.18;
  const [x0, y0, x1, y1, x2, y2, x3, y3] = [
    jitter(0, sx),
    jitter(0, sy),
    jitter(1, sx),
    jitter(0, sy),
    jitter(1, sx),
    jitter(1, sy),
    jitter(0, sx),
    jitter(1, sy),
  ];
  const dx1 = x1 - x2,
    dx2 = x3 - x2,
    dx3 = x0 - x1 + x2 - x3;
  const dy1 = y1 - y2,
    dy2 = y3 - y2,
    dy3 = y0 - y1 + y2 - y3;
  const det = dx1 * dy2 - dx2 * dy1;
  const g = (dx3 * dy2 - dx2 * dy3) / det;
  const h = (dx1 * dy3 - dx3 * dy1) / det;
  const a = x1 - x0 + g * x1,
    b = x3 - x0 + h * x3,
    c = x0;
  const d = y1 - y0 + g * y1,
    e = y3 - y0 + h * y3,
    f = y0;
  return remap(source, width, height, (x, y, point) => {
    const u = x / width,
      v = y / height;
    const w = g * u + h * v + 1;
    point[0] = ((a * u + b * v + c) / w) * width;
    point[1] = ((d * u + e * v + f) / w) * height;
  });
}

/** Elastic warp: a coarse grid of random shifts, smoothly interpolated between its knots. */
function elastic(rng, source, width, height) {
  const columns = int(rng, 3, 8),
    rows = int(rng, 2, 3);
  const amount = between(rng, 0.03, 0.08) * height;
  const knots = Array.from({ length: (rows + 1) * (columns + 1) }, () => [between(rng, -amount, amount), between(rng, -amount, amount)]);
  const knot = (r, c) => knots[r * (columns + 1) + c];
  return remap(source, width, height, (x, y, point) => {
    const gx = (x / width) * columns,
      gy = (y / height) * rows;
    const c = Math.min(columns - 1, Math.floor(gx)),
      r = Math.min(rows - 1, Math.floor(gy));
    const tx = gx - c,
      ty = gy - r;
    for (let k = 0; k < 2; k += 1) {
      const top = knot(r, c)[k] * (1 - tx) + knot(r, c + 1)[k] * tx;
      const bottom = knot(r + 1, c)[k] * (1 - tx) + knot(r + 1, c + 1)[k] * tx;
      point[k] = (k === 0 ? x : y) + top * (1 - ty) + bottom * ty;
    }
  });
}

/** Sine warp: each column slides up or down. */
function warp(rng, source, width, height) {
  const target = createCanvas(width, height);
  const ctx = target.getContext('2d');
  const amplitude = between(rng, 1, height * 0.12);
  const wavelength = between(rng, width * 0.3, width * 1.2);
  const phase = between(rng, 0, Math.PI * 2);
  ctx.drawImage(source, 0, 0);
  for (let x = 0; x < width; x += 1) {
    const dy = amplitude * Math.sin((2 * Math.PI * x) / wavelength + phase);
    ctx.drawImage(source, x, 0, 1, height, x, dy, 1, height);
  }
  return target;
}

/** Wave warp in both directions: every pixel is moved along x and y by sines of the other axis. */
function wave2d(rng, source, width, height) {
  const ax = between(rng, 0.5, height * 0.08);
  const ay = between(rng, 0.5, height * 0.1);
  const fx = (2 * Math.PI) / between(rng, height * 0.5, height * 2);
  const fy = (2 * Math.PI) / between(rng, width * 0.15, width * 0.6);
  const px = between(rng, 0, 6.3);
  const py = between(rng, 0, 6.3);
  return remap(source, width, height, (x, y, point) => {
    point[0] = x + ax * Math.sin(fx * y + px);
    point[1] = y + ay * Math.sin(fy * x + py);
  });
}

function saltAndPepper(rng, ctx, width, height) {
  const image = ctx.getImageData(0, 0, width, height);
  const amount = between(rng, 0.005, 0.04);
  for (let i = 0; i < width * height; i += 1) {
    if (rng() >= amount) continue;
    const v = chance(rng, 0.5) ? 0 : 255;
    image.data[i * 4] = image.data[i * 4 + 1] = image.data[i * 4 + 2] = v;
  }
  ctx.putImageData(image, 0, 0);
}

/** @returns {Promise<{ text: string, image: Buffer }>} */
export async function renderSynthetic(rng) {
  const text = answer(rng);
  // Sizes from small thumbnails (upscaled by preprocessing, pixels and all) to large images.
  const height = chance(rng, 0.25) ? int(rng, 22, 34) : int(rng, 34, 80);
  const tight = chance(rng, 0.25);
  const width = Math.round(height * (tight ? between(rng, 0.45, 0.75) * text.length : between(rng, 1.9, 4.4)));
  let canvas = createCanvas(width, height);
  const ctx = canvas.getContext('2d');
  const { background, text: fg } = colours(rng);
  paintBackground(rng, ctx, width, height, background);
  const clutterFirst = chance(rng, 0.4);
  if (clutterFirst) paintClutter(rng, ctx, width, height, fg);
  paintText(rng, ctx, text, width, height, fg, background, tight);
  if (!clutterFirst) paintClutter(rng, ctx, width, height, fg);
  if (chance(rng, 0.2)) strikeThrough(rng, ctx, width, height, fg, background);
  const warpRoll = rng();
  if (warpRoll < 0.25) canvas = warp(rng, canvas, width, height);
  else if (warpRoll < 0.37) canvas = wave2d(rng, canvas, width, height);
  else if (warpRoll < 0.49) canvas = perspective(rng, canvas, width, height);
  else if (warpRoll < 0.61) canvas = elastic(rng, canvas, width, height);
  const out = canvas.getContext('2d');
  if (chance(rng, 0.15)) saltAndPepper(rng, out, width, height);
  if (chance(rng, 0.25)) {
    const blurred = createCanvas(width, height);
    const bctx = blurred.getContext('2d');
    bctx.filter = `blur(${between(rng, 0.4, 1.1).toFixed(2)}px)`;
    bctx.drawImage(canvas, 0, 0);
    canvas = blurred;
  }
  const image = chance(rng, 0.35) ? await canvas.encode('jpeg', int(rng, 15, 75)) : await canvas.encode('png');
  return { text, image };
}

/** A small fast seeded generator (mulberry32). */
export function seededRng(seed) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
