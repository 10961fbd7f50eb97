/** flow's test door: the export corpora and a decode-to-rows helper, for other rooms' tests and benchmarks. */
export { CORPUS, LOGSTASH, TELEGRAF } from './testdata/corpus.ts';
export { batchRows, decodeAll, type Row } from './testdata/rows.ts';
// Process and socket helpers of the nfcapd/softflowd cross-checks and the flow benchmark.
export * from './testdata/proc.ts';
