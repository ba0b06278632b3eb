import { readFileSync } from 'node:fs';
import { RecognizerPool } from '/work/main/packages/ocr/dist/src/index.js';
import { NO_IMAGE_HINTS } from '@solvebox/protocol';
const pool = await RecognizerPool.start({ size: 2, ...(process.env.MODEL ? { modelDir: process.env.MODEL } : {}) });
for (const dir of process.argv.slice(2)) {
  const labels = readFileSync(`${dir}/labels.tsv`, 'utf8')
    .trim()
    .split('\n')
    .map((l) => l.split('\t'));
  let ok = 0,
    accepted = 0,
    acceptedOk = 0;
  const misses = [];
  for (const [file, answer] of labels) {
    const r = await pool.recognize(readFileSync(`${dir}/${file}`), { ...NO_IMAGE_HINTS });
    const text = 'text' in r ? r.text : '';
    const right = text.toLowerCase() === answer.toLowerCase();
    if (right) ok++;
    if (r.confidence >= 0.35) {
      accepted++;
      if (right) acceptedOk++;
    }
    if (!right && misses.length < 12) misses.push(`${answer}->${text}`);
  }
  console.log(dir, 'raw', ok, '/', labels.length, 'accepted', accepted, 'acceptedRight', acceptedOk, misses.join(' '));
}
await pool.close();
