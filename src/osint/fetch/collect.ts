/**
 * One round over the configured feeds: read each feed (conditionally), take its newest items,
 * fetch each item's document (or use the item's own text), skip content already stored (by its
 * SHA-256), extract, store with provenance, and hand the new document to the intake.
 */
import { createHash } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Logger } from '../../core/index.ts';
import type { FeedConfig, OsintConfig } from '../config.ts';
import { decodeText, readDocument, type PdfOptions } from '../document/read.ts';
import { documentLanguage } from '../document/language.ts';
import { extractIndicators } from '../extract/extract.ts';
import type { ExtractedIndicator } from '../extract/types.ts';
import type { OsintTables } from '../migrations.ts';
import { feedState, notePlace, saveDocument, saveFeedState, type StoredDocument } from '../store.ts';
import { FeedFormatError, parseFeed, type FeedItem } from './feed.ts';
import { httpGet } from './http.ts';

/** Hands a newly stored document's indicators on (the CLI wires intel's OSINT intake here). */
export type OsintIntake = (
  document: StoredDocument,
  indicators: readonly ExtractedIndicator[],
  feed: FeedConfig,
) => Promise<void>;

export interface FetchRound {
  feeds: number;
  /** Feeds that answered 304 Not Modified. */
  unchanged: number;
  items: number;
  documents: number;
  duplicates: number;
  indicators: number;
  errors: number;
  /** Feeds that could not be read at all (not fetched, or neither RSS nor Atom); counted in errors too. */
  feedsFailed: number;
}

export interface CollectCounters {
  documents(outcome: 'new' | 'duplicate' | 'error'): void;
  indicators(type: string, n: number): void;
  feedError(feed: string, reason: string): void;
}

export interface CollectContext {
  config: OsintConfig;
  db: Kysely<OsintTables>;
  logger: Logger;
  intake?: OsintIntake;
  counters: CollectCounters;
  now: () => Date;
}

function pdfOptions(config: OsintConfig): PdfOptions {
  return {
    command: config.pdftotext,
    timeoutMs: config.timeoutMs,
    maxOutputBytes: config.maxDocumentBytes * 4,
  };
}

async function documentOf(ctx: CollectContext, item: FeedItem, feed: FeedConfig) {
  const { config } = ctx;
  if (feed.followLinks && item.link) {
    const got = await httpGet(item.link, {
      timeoutMs: config.timeoutMs,
      maxBytes: config.maxDocumentBytes,
      userAgent: config.userAgent,
    });
    return {
      url: got.url,
      bytes: got.bytes,
      contentType: got.contentType,
      hint: `${got.contentType} ${got.url}`,
    };
  }
  const bytes = Buffer.from(item.body, 'utf8');
  return { url: item.link || feed.url, bytes, contentType: 'text/html', hint: 'text/html' };
}

async function takeItem(
  ctx: CollectContext,
  feed: FeedConfig,
  item: FeedItem,
  round: FetchRound & { taken: Set<string> },
): Promise<void> {
  const fetched = await documentOf(ctx, item, feed);
  const id = createHash('sha256').update(fetched.bytes).digest('hex');
  const fetchedAt = ctx.now().toISOString();
  // The same content twice in one round (two links to one page) is a duplicate too; its place is
  // noted when the first copy is already stored.
  const takenNow = round.taken.has(id);
  round.taken.add(id);
  const known = await notePlace(ctx.db, { id, source: feed.name, url: fetched.url, fetchedAt });
  if (known || takenNow) {
    round.duplicates++;
    ctx.counters.documents('duplicate');
    return;
  }
  const read = await readDocument(fetched.bytes, fetched.hint, pdfOptions(ctx.config));
  const indicators = extractIndicators(read.text, {
    hostsOfUrls: ctx.config.hostsOfUrls,
    contextChars: ctx.config.contextChars,
  });
  const document: StoredDocument = {
    id,
    source: feed.name,
    url: fetched.url,
    title: item.title || read.title,
    contentType: fetched.contentType || read.kind,
    bytes: fetched.bytes.byteLength,
    fetchedAt,
    ...(item.published ? { publishedAt: item.published } : {}),
    tlp: feed.tlp,
    ...(feed.tier ? { feedTier: feed.tier } : {}),
    language: documentLanguage(read.text),
  };
  await saveDocument(ctx.db, document, indicators);
  round.documents++;
  round.indicators += indicators.length;
  ctx.counters.documents('new');
  const byType = new Map<string, number>();
  for (const hit of indicators) byType.set(hit.type, (byType.get(hit.type) ?? 0) + 1);
  for (const [type, n] of byType) ctx.counters.indicators(type, n);
  if (ctx.intake) await ctx.intake(document, indicators, feed);
}

async function takeFeed(
  ctx: CollectContext,
  feed: FeedConfig,
  round: FetchRound & { taken: Set<string> },
): Promise<void> {
  const { config } = ctx;
  const previous = await feedState(ctx.db, feed.name);
  const got = await httpGet(feed.url, {
    timeoutMs: config.timeoutMs,
    maxBytes: config.maxDocumentBytes,
    userAgent: config.userAgent,
    etag: previous?.etag,
    lastModified: previous?.lastModified,
  });
  const state = { name: feed.name, url: feed.url, fetchedAt: ctx.now().toISOString() };
  if (got.status === 304) {
    round.unchanged++;
    await saveFeedState(ctx.db, {
      ...state,
      etag: previous?.etag ?? null,
      lastModified: previous?.lastModified ?? null,
      status: 'unchanged',
    });
    return;
  }
  const items = parseFeed(decodeText(got.bytes, got.contentType), got.url).slice(0, config.maxItemsPerFeed);
  round.items += items.length;
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const item = items[next++]!;
      try {
        await takeItem(ctx, feed, item, round);
      } catch (error) {
        round.errors++;
        ctx.counters.documents('error');
        ctx.logger.warn(
          { feed: feed.name, url: item.link, err: (error as Error).message },
          'osint document skipped',
        );
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(config.concurrency, items.length) }, worker));
  await saveFeedState(ctx.db, { ...state, etag: got.etag, lastModified: got.lastModified, status: 'ok' });
}

/** Reads every configured feed once; a feed that fails is logged and counted, the others go on. */
export async function collectFeeds(ctx: CollectContext): Promise<FetchRound> {
  const round = {
    feeds: 0,
    unchanged: 0,
    items: 0,
    documents: 0,
    duplicates: 0,
    indicators: 0,
    errors: 0,
    feedsFailed: 0,
    taken: new Set<string>(),
  };
  for (const feed of ctx.config.feeds) {
    round.feeds++;
    try {
      await takeFeed(ctx, feed, round);
    } catch (error) {
      round.errors++;
      round.feedsFailed++;
      const reason = error instanceof FeedFormatError ? 'format' : 'fetch';
      ctx.counters.feedError(feed.name, reason);
      ctx.logger.warn({ feed: feed.name, err: (error as Error).message }, 'osint feed skipped');
    }
  }
  const { taken: _taken, ...counts } = round;
  return counts;
}
