/**
 * Writes src/web/campaign/common-path-words.json: the words benign sites use in their paths,
 * so a kit path (src/web/campaign/kit-paths.ts) never ties two sites by `/sitemap/` or `/ssl/`.
 * Read from the TUNING half of the benign URLs only (bench/web/data.ts), as the model's tables
 * are: every run of three or more letters of a path, lower case, that the English dictionary
 * (word-list) lacks. The evaluation half and JPCERT/CC's list are not read.
 *
 *   node --import tsx bench/web/path-words.ts --data DIR
 */
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { nonEnglishPathWords } from '../../src/web/index.ts';
import { benignPart, benignUrls, dataDirectory } from './data.ts';

const { values } = parseArgs({ options: { data: { type: 'string' } } });
const dir = dataDirectory(values.data);
const tuning = (await benignUrls(dir)).filter((h) => benignPart(h.url.host) === 'tuning');
const urls = tuning.length;
const words = nonEnglishPathWords(tuning.map((h) => h.url.path));
const out = join(dirname(fileURLToPath(import.meta.url)), '../../src/web/campaign/common-path-words.json');
const data = {
  source: `bench/web/path-words.ts: path words of the ${urls} tuning-half benign URLs (bench/web/data.ts) not in word-list's English dictionary`,
  words: [...words].sort(),
};
writeFileSync(out, JSON.stringify(data, null, 0) + '\n');
console.log(`${words.size} words from ${urls} URLs -> ${out}`);
