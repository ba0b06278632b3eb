import { writeFileSync } from 'node:fs';
import { createCanvas, loadImage } from '@napi-rs/canvas';
import { renderSynthetic, seededRng, FONTS } from '../../training/synthetic.mjs';
const rng = seededRng(Number(process.argv[2] ?? 5));
const sheet = createCanvas(900, 720);
const ctx = sheet.getContext('2d');
ctx.fillStyle = '#888';
ctx.fillRect(0, 0, 900, 720);
const texts = [];
for (let i = 0; i < 24; i++) {
  const { text, image } = await renderSynthetic(rng);
  const img = await loadImage(image);
  const scale = Math.min(290 / img.width, 85 / img.height);
  ctx.drawImage(img, (i % 3) * 300, Math.floor(i / 3) * 90, img.width * scale, img.height * scale);
  texts.push(`${text}(${img.width}x${img.height})`);
}
writeFileSync('/tmp/preview.png', await sheet.encode('png'));
console.log(FONTS.length, 'fonts;', texts.join(' '));
