/**
 * The optional summariser: a section's figures go to an OpenAI-compatible chat endpoint
 * (POST /v1/chat/completions), and what comes back is kept sentence by sentence with the figure
 * ids it was given as its sources. The report is complete without it; a late, failed or
 * malformed answer leaves the section without prose and with a note saying why.
 */
import { z } from 'zod';
import { fetchFailure, readBody } from '../core/index.ts';
import type { Lang, SummariserConfig } from './config.ts';
import type { Figure } from './figures.ts';

export type Summary =
  | { outcome: 'written'; sentences: string[]; sources: string[] }
  /**
   * `unreachable`: no answer at all (a timeout, a refused or dropped connection), not a bad one;
   * `notAsked`: not sent, because the endpoint gave an earlier section no answer.
   */
  | { outcome: 'omitted'; reason: string; unreachable?: true; notAsked?: true };

const ChatAnswer = z.object({
  choices: z.array(z.object({ message: z.object({ content: z.string() }) })).min(1),
});

const INSTRUCTIONS: Record<Lang, string> = {
  en: 'You summarise one section of a cyber threat report for analysts. Write at most three short sentences in English. Use only the figures given, quote their numbers exactly, and add nothing that is not in them.',
  ja: 'サイバー脅威レポートの一節を分析者向けに要約します。日本語で三文以内で書いてください。与えられた数値だけを使い、数値は正確に引用し、それ以外のことは書かないでください。',
};

/** Why a summary was left out, in the report's language (the note sits in the report's text). */
const OMITTED = {
  en: {
    noFigures: 'no figures to summarise',
    http: (status: number) => `the endpoint answered HTTP ${status}`,
    noJson: 'the endpoint answered no JSON',
    noCompletion: 'the endpoint answered no chat completion',
    empty: 'the endpoint answered an empty text',
    timeout: (ms: number) => `no answer within ${ms} ms`,
    failed: (why: string) => `the request failed (${why})`,
    notAsked: (why: string) => `not asked: the endpoint gave an earlier section no answer (${why})`,
  },
  ja: {
    noFigures: '要約する数値がありません',
    http: (status: number) => `エンドポイントが HTTP ${status} を返しました`,
    noJson: 'エンドポイントの応答が JSON ではありません',
    noCompletion: 'エンドポイントの応答がチャット補完の形式ではありません',
    empty: 'エンドポイントの応答が空でした',
    timeout: (ms: number) => `${ms} ミリ秒以内に応答がありません`,
    failed: (why: string) => `要求が失敗しました（${why}）`,
    notAsked: (why: string) => `前の節で応答がなかったため要求していません（${why}）`,
  },
} as const;

/** A chat completion is a few kilobytes; a larger answer is not read past this. */
const MAX_ANSWER_BYTES = 1 << 20;

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

export function completionsUrl(url: string): string {
  const base = url.replace(/\/+$/, '');
  return base.endsWith('/v1/chat/completions') ? base : `${base}/v1/chat/completions`;
}

/** Sentences of an answer, split after Japanese and Latin sentence ends. */
export function sentencesOf(text: string): string[] {
  return text
    .split(/(?<=[.!?。！？])\s*/u)
    .map((s) => s.trim())
    .filter(Boolean);
}

export async function summarise(
  config: SummariserConfig,
  lang: Lang,
  title: string,
  figures: readonly Figure[],
  fetchImpl: typeof fetch = fetch,
): Promise<Summary> {
  const omitted = OMITTED[lang];
  if (figures.length === 0) return { outcome: 'omitted', reason: omitted.noFigures };
  const body = {
    model: config.model,
    temperature: 0,
    messages: [
      { role: 'system', content: INSTRUCTIONS[lang] },
      {
        role: 'user',
        content: JSON.stringify({
          section: title,
          figures: figures.map(({ id, label, value }) => ({ id, label, value })),
        }),
      },
    ],
  };
  // One deadline for the answer and its whole body.
  const signal = AbortSignal.timeout(config.timeoutMs);
  try {
    const response = await fetchImpl(completionsUrl(config.url), {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...(config.apiKey ? { authorization: `Bearer ${config.apiKey}` } : {}),
      },
      body: JSON.stringify(body),
      signal,
    });
    if (!response.ok) {
      await response.body?.cancel().catch(() => {});
      return { outcome: 'omitted', reason: omitted.http(response.status) };
    }
    const answer = await readBody(response, { maxBytes: MAX_ANSWER_BYTES, overflow: 'error', signal });
    const json = parseJson(answer.bytes.toString('utf8'));
    if (json === undefined) return { outcome: 'omitted', reason: omitted.noJson };
    const parsed = ChatAnswer.safeParse(json);
    if (!parsed.success) return { outcome: 'omitted', reason: omitted.noCompletion };
    const sentences = sentencesOf(parsed.data.choices[0]!.message.content.slice(0, config.maxChars));
    if (sentences.length === 0) return { outcome: 'omitted', reason: omitted.empty };
    return { outcome: 'written', sentences, sources: figures.map((f) => f.id) };
  } catch (error) {
    const reason =
      (error as Error).name === 'TimeoutError'
        ? omitted.timeout(config.timeoutMs)
        : omitted.failed(fetchFailure(error));
    return { outcome: 'omitted', reason, unreachable: true };
  }
}

/** A section not sent because the endpoint gave an earlier one no answer: the report is not held up once per section. */
export function notAsked(lang: Lang, earlier: Summary & { outcome: 'omitted' }): Summary {
  return { outcome: 'omitted', reason: OMITTED[lang].notAsked(earlier.reason), notAsked: true };
}
