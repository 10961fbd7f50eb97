/** The detector's evidence as the detail view and the graph read it. */

/**
 * An indicator's attributes as flat key/value pairs for the detail view: the detector's evidence
 * (JSON in `attributes.evidence`) is unpacked, nested keys joined with a dot (`sub.bots`).
 */
export function evidenceOf(attributes: Record<string, string>): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {};
  const put = (key: string, value: unknown) => {
    if (value && typeof value === 'object' && !Array.isArray(value))
      for (const [k, v] of Object.entries(value)) put(`${key}.${k}`, v);
    else if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'string')
      out[key] = value;
    else if (Array.isArray(value)) out[key] = value.map(String).join(', ');
  };
  for (const [key, value] of Object.entries(attributes)) {
    if (key !== 'evidence') {
      out[key] = value;
      continue;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(value);
    } catch {
      out[key] = value; // cut or foreign: still shown, as text
      continue;
    }
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed))
      for (const [k, v] of Object.entries(parsed)) put(k, v);
    else put(key, parsed);
  }
  return out;
}

/** `bots` from the detector's evidence (attributes.evidence, JSON), if there is one. */
export function detectorBotCount(attributes: Record<string, string>): number | undefined {
  try {
    const evidence = JSON.parse(attributes.evidence ?? 'null') as { bots?: unknown } | null;
    if (typeof evidence?.bots === 'number') return evidence.bots;
  } catch {
    // not the detector's evidence
  }
  const bots = Number(attributes.bots);
  return attributes.bots !== undefined && Number.isFinite(bots) ? bots : undefined;
}
