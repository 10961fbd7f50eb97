/**
 * Real exporter payloads shipped with the repository (each folder keeps its upstream LICENSE;
 * corpus/README.md says where they come from).
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const CORPUS = fileURLToPath(new URL('./corpus/', import.meta.url));
/** Logstash's netflow codec specs: one export packet per `.dat` file. */
export const LOGSTASH = join(CORPUS, 'logstash');
/** Telegraf's netflow input test cases: `*.bin` payloads with `expected.out` line protocol. */
export const TELEGRAF = join(CORPUS, 'telegraf');
