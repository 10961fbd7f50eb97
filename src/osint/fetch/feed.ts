/** RSS 2.0, RSS 1.0 (RDF) and Atom feeds as a list of items, through fast-xml-parser. */
import { XMLParser } from 'fast-xml-parser';
import { InputError } from '../../core/index.ts';

export interface FeedItem {
  title: string;
  /** The item's link, absolute; empty when it has none. */
  link: string;
  published?: string;
  /** The item's own text (description, summary, content) as given, often HTML. */
  body: string;
}

/** Not a feed: bad input from the source, counted and skipped. */
export class FeedFormatError extends InputError {}

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@',
  textNodeName: '#text',
  processEntities: true,
  htmlEntities: true,
  // An entity-expansion bomb is a document that is not read: the parser's limits stay on.
  isArray: (name) => ['item', 'entry', 'link'].includes(name),
});

function text(node: unknown): string {
  if (node === undefined || node === null) return '';
  if (typeof node === 'string' || typeof node === 'number') return String(node);
  if (Array.isArray(node)) return text(node[0]);
  if (typeof node === 'object') return text((node as Record<string, unknown>)['#text']);
  return '';
}

function absolute(link: string, base: string): string {
  if (!link) return '';
  try {
    const url = new URL(link.trim(), base);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url.href : '';
  } catch {
    return '';
  }
}

function atomLink(links: unknown, base: string): string {
  if (!Array.isArray(links)) return '';
  const chosen =
    links.find((l) => typeof l === 'object' && l && (l['@rel'] ?? 'alternate') === 'alternate') ?? links[0];
  if (typeof chosen === 'string') return absolute(chosen, base);
  return absolute(String((chosen as Record<string, unknown> | undefined)?.['@href'] ?? ''), base);
}

function dateOf(value: string): string | undefined {
  const time = Date.parse(value);
  return Number.isNaN(time) ? undefined : new Date(time).toISOString();
}

function rssItems(items: Record<string, unknown>[], base: string): FeedItem[] {
  return items.map((item) => {
    const published = dateOf(text(item.pubDate ?? item['dc:date']));
    return {
      title: text(item.title).trim(),
      link: absolute(text(item.link), base) || absolute(text(item.guid), base),
      ...(published ? { published } : {}),
      body: text(item['content:encoded']) || text(item.description),
    };
  });
}

function atomEntries(entries: Record<string, unknown>[], base: string): FeedItem[] {
  return entries.map((entry) => {
    const published = dateOf(text(entry.published ?? entry.updated));
    return {
      title: text(entry.title).trim(),
      link: atomLink(entry.link, base),
      ...(published ? { published } : {}),
      body: text(entry.content) || text(entry.summary),
    };
  });
}

/** The feed's items, in document order; throws FeedFormatError when it is not RSS or Atom. */
export function parseFeed(xml: string, base: string): FeedItem[] {
  let doc: Record<string, Record<string, unknown> | undefined>;
  try {
    doc = parser.parse(xml) as typeof doc;
  } catch (error) {
    throw new FeedFormatError(`not XML: ${(error as Error).message.split('\n')[0]!.slice(0, 120)}`);
  }
  const channel = doc.rss?.channel as Record<string, unknown> | undefined;
  if (channel) return rssItems((channel.item as Record<string, unknown>[] | undefined) ?? [], base);
  const rdf = doc['rdf:RDF'];
  if (rdf) return rssItems((rdf.item as Record<string, unknown>[] | undefined) ?? [], base);
  if (doc.feed) return atomEntries((doc.feed.entry as Record<string, unknown>[] | undefined) ?? [], base);
  throw new FeedFormatError('neither RSS nor Atom');
}
