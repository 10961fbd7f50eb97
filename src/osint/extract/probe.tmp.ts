import { extractIndicators } from './extract.ts';
import { refang } from './refang.ts';
const megabyte = 1 << 20;
for (const sep of [' ', '\u200b']) {
  const text = `${'a'.repeat(31)}b${sep}`.repeat(megabyte / 33);
  let t = performance.now();
  refang(text);
  const r = performance.now() - t;
  t = performance.now();
  const n = extractIndicators(text).length;
  console.log(JSON.stringify(sep), 'refang', r.toFixed(0), 'ms; extract', (performance.now() - t).toFixed(0), 'ms', n);
}
