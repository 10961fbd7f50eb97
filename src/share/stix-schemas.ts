/**
 * Test helper: validates STIX objects against the OASIS JSON schemas (draft 2020-12) shipped in
 * testdata/stix2-json-schemas (OASIS BSD licence beside them).
 */
// The OASIS schemas use escapes (`\-`) that the `u` flag rejects, hence unicodeRegExp: false.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';

const SCHEMA_ROOT =
  process.env.TSUNAGI_STIX_SCHEMAS ??
  fileURLToPath(new URL('./testdata/stix2-json-schemas/schemas/', import.meta.url));
const addFormats = addFormatsModule as unknown as (ajv: Ajv2020) => void;

export function stixValidator(): (object: Record<string, unknown>) => string | undefined {
  const ajv = new Ajv2020({ strict: false, allErrors: false, unicodeRegExp: false });
  addFormats(ajv);
  // ajv-formats has no idn-hostname; a domain with no whitespace is what we emit anyway.
  ajv.addFormat('idn-hostname', /^[^\s/]+$/);
  const byType = new Map<string, string>();
  for (const dir of readdirSync(SCHEMA_ROOT)) {
    for (const file of readdirSync(join(SCHEMA_ROOT, dir))) {
      const schema = JSON.parse(readFileSync(join(SCHEMA_ROOT, dir, file), 'utf8')) as { $id: string };
      ajv.addSchema(schema);
      byType.set(file.replace(/\.json$/, ''), schema.$id);
    }
  }
  return (object) => {
    const id = byType.get(object.type as string);
    if (!id) return `no schema for type ${String(object.type)}`;
    const validate = ajv.getSchema(id)!;
    if (validate(object)) return undefined;
    return `${String(object.id)}: ${ajv.errorsText(validate.errors)}`;
  };
}
