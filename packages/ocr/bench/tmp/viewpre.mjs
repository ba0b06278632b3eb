import { readFileSync, writeFileSync } from 'node:fs';
import sharp from 'sharp';
import { preprocess } from '@solvebox/ocr/preprocess';
const dirs = process.argv.slice(2);
const tiles = [];
for (const dir of dirs) for (let i = 0; i < 6; i++) {
  const ext = dir.endsWith('g') ? 'jpg' : 'png';
  const px = await preprocess(readFileSync(`${dir}/${i}.${ext}`));
  tiles.push(await sharp(Buffer.from(px), { raw: { width: 192, height: 48, channels: 1 } }).png().toBuffer());
}
const composite = tiles.map((input, i) => ({ input, left: (i % 3) * 196, top: Math.floor(i / 3) * 52 }));
await sharp({ create: { width: 588, height: 52 * Math.ceil(tiles.length / 3), channels: 3, background: '#f00' } }).composite(composite).resize({ width: 1176 }).png().toFile('/tmp/pre.png');
