/**
 * English words (word-list's dictionary, lower case), read once per process on first use: 274k
 * words, about 100 ms and 21 MB of heap. The kit-path memory asks whether a path word is English; the URL verdict's shapes
 * ask whether a host's labels are, since honest sites name hosts with words (`english.news.cn`,
 * `mirror.example.xyz`) and phishing hosts are random letters far more often (bench/web/README.md).
 */
import { readFileSync } from 'node:fs';
import wordListPath from 'word-list';

let dictionary: Set<string> | undefined;

export function englishWords(): ReadonlySet<string> {
  dictionary ??= new Set(readFileSync(wordListPath, 'utf8').split('\n'));
  return dictionary;
}

/** Whether every dot-separated label of `name` is an English word of `min` letters or more. */
export function allEnglishWords(name: string, min: number): boolean {
  const words = englishWords();
  let start = 0;
  for (;;) {
    const dot = name.indexOf('.', start);
    const end = dot < 0 ? name.length : dot;
    if (end - start < min || !words.has(name.slice(start, end))) return false;
    if (dot < 0) return true;
    start = dot + 1;
  }
}
