/** A small, bounded XML reader for the recog fingerprint files: elements, attributes, text, comments. */

export interface XmlElement {
  name: string;
  attributes: Record<string, string>;
  children: XmlElement[];
  /** Concatenated text directly inside this element (entities decoded). */
  text: string;
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

export function decodeEntities(text: string): string {
  return text.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|[a-zA-Z]+);/g, (whole, body: string) => {
    if (body.startsWith('#x')) return String.fromCodePoint(parseInt(body.slice(2), 16));
    if (body.startsWith('#')) return String.fromCodePoint(parseInt(body.slice(1), 10));
    return ENTITIES[body] ?? whole;
  });
}

const ATTRIBUTE = /([A-Za-z_:][-A-Za-z0-9_.:]*)\s*=\s*(?:"([^"]*)"|'([^']*)')/g;

function parseAttributes(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  ATTRIBUTE.lastIndex = 0;
  for (let m = ATTRIBUTE.exec(text); m; m = ATTRIBUTE.exec(text))
    out[m[1]!] = decodeEntities(m[2] ?? m[3] ?? '');
  return out;
}

/** Parses a whole document and returns its root element; throws with a position on malformed input. */
export function parseXml(source: string, maxDepth = 64): XmlElement {
  const root: XmlElement = { name: '#document', attributes: {}, children: [], text: '' };
  const stack: XmlElement[] = [root];
  let i = 0;
  while (i < source.length) {
    const lt = source.indexOf('<', i);
    const top = stack[stack.length - 1]!;
    if (lt < 0) {
      top.text += decodeEntities(source.slice(i));
      break;
    }
    if (lt > i) top.text += decodeEntities(source.slice(i, lt));
    if (source.startsWith('<!--', lt)) {
      const end = source.indexOf('-->', lt + 4);
      if (end < 0) throw new Error(`unterminated comment at ${lt}`);
      i = end + 3;
    } else if (source.startsWith('<![CDATA[', lt)) {
      const end = source.indexOf(']]>', lt + 9);
      if (end < 0) throw new Error(`unterminated CDATA at ${lt}`);
      top.text += source.slice(lt + 9, end);
      i = end + 3;
    } else if (source.startsWith('<?', lt) || source.startsWith('<!', lt)) {
      const end = source.indexOf('>', lt);
      if (end < 0) throw new Error(`unterminated declaration at ${lt}`);
      i = end + 1;
    } else if (source.startsWith('</', lt)) {
      const end = source.indexOf('>', lt);
      if (end < 0) throw new Error(`unterminated end tag at ${lt}`);
      const name = source.slice(lt + 2, end).trim();
      if (top.name !== name) throw new Error(`end tag </${name}> at ${lt} does not close <${top.name}>`);
      stack.pop();
      i = end + 1;
    } else {
      // Find the tag end while skipping quoted attribute values (they may hold '>').
      let j = lt + 1;
      let quote = '';
      for (; j < source.length; j++) {
        const c = source[j]!;
        if (quote) {
          if (c === quote) quote = '';
        } else if (c === '"' || c === "'") quote = c;
        else if (c === '>') break;
      }
      if (j >= source.length) throw new Error(`unterminated tag at ${lt}`);
      const selfClosing = source[j - 1] === '/';
      const inner = source.slice(lt + 1, selfClosing ? j - 1 : j);
      const nameMatch = /^[A-Za-z_:][-A-Za-z0-9_.:]*/.exec(inner);
      if (!nameMatch) throw new Error(`bad tag name at ${lt}`);
      const element: XmlElement = {
        name: nameMatch[0],
        attributes: parseAttributes(inner.slice(nameMatch[0].length)),
        children: [],
        text: '',
      };
      top.children.push(element);
      if (!selfClosing) {
        if (stack.length > maxDepth) throw new Error(`nesting deeper than ${maxDepth} at ${lt}`);
        stack.push(element);
      }
      i = j + 1;
    }
  }
  if (stack.length !== 1) throw new Error(`unclosed <${stack[stack.length - 1]!.name}> at end of document`);
  const first = root.children[0];
  if (!first) throw new Error('document has no root element');
  return first;
}
