/** Rewrites one "## " section of a markdown file (BENCHMARKS.md), keeping the other sections. */

/** Replaces the section under `heading` (up to the next "## " heading), or appends it when absent. */
export function replaceSection(markdown: string, heading: string, body: string): string {
  const section = `${heading}\n\n${body.trim()}\n`;
  const start = markdown.indexOf(`${heading}\n`);
  if (start < 0) {
    const base = markdown.trim() === '' ? '# Benchmarks\n' : markdown.trimEnd() + '\n';
    return `${base}\n${section}`;
  }
  const next = markdown.indexOf('\n## ', start + heading.length);
  return markdown.slice(0, start) + section + (next < 0 ? '' : markdown.slice(next));
}
