/**
 * Validated ROA payloads as relying parties export them: rpki-client's `json` output and
 * Routinator's `json`/`jsonext` (both `{"roas": [{"asn", "prefix", "maxLength", "ta"}]}`, the
 * ASN a number or "AS123").
 */
import ipaddr from 'ipaddr.js';
import { z } from 'zod';
import { isStrictPrefix } from './prefix.ts';

export interface Vrp {
  asn: number;
  prefix: string;
  maxLength: number;
  ta?: string;
}

export class VrpFormatError extends Error {}

const Asn = z
  .union([z.number().int(), z.string().regex(/^(AS)?\d+$/i)])
  .transform((v) => Number(String(v).replace(/^AS/i, '')));
const Roa = z.object({
  asn: Asn,
  prefix: z.string(),
  maxLength: z.number().int().optional(),
  ta: z.string().optional(),
});
const VrpFile = z.object({ roas: z.array(z.unknown()) });

export function parseVrps(text: string): Vrp[] {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new VrpFormatError('not JSON (expected rpki-client or Routinator JSON output)');
  }
  const file = VrpFile.safeParse(json);
  if (!file.success)
    throw new VrpFormatError('no "roas" array (expected rpki-client or Routinator JSON output)');
  return file.data.roas.map((entry, index) => {
    const roa = Roa.safeParse(entry);
    if (!roa.success) throw new VrpFormatError(`roas[${index}]: expected asn, prefix and maxLength`);
    const { asn, prefix, maxLength, ta } = roa.data;
    if (asn < 0 || asn > 4294967295) throw new VrpFormatError(`roas[${index}]: AS${asn} is out of range`);
    let length: number;
    let kind: string;
    if (!isStrictPrefix(prefix)) throw new VrpFormatError(`roas[${index}]: "${prefix}" is not a prefix`);
    try {
      const [address, bits] = ipaddr.parseCIDR(prefix);
      length = bits;
      kind = address.kind();
    } catch {
      throw new VrpFormatError(`roas[${index}]: "${prefix}" is not a prefix`);
    }
    const max = maxLength ?? length;
    if (max < length || max > (kind === 'ipv4' ? 32 : 128))
      throw new VrpFormatError(`roas[${index}]: maxLength ${max} does not fit ${prefix}`);
    return { asn, prefix, maxLength: max, ...(ta ? { ta } : {}) };
  });
}
