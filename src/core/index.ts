/** core's front door: the kernel every room shares (ids and addresses, FlowBatch, errors, config, logging, metrics, lifecycle). */
export * from './c2list.ts';
export * from './chromium.ts';
export * from './config.ts';
export * from './csv.ts';
export * from './errors.ts';
export * from './files.ts';
export * from './flowbatch.ts';
export * from './ip.ts';
export * from './lifecycle.ts';
export * from './logger.ts';
export * from './metrics.ts';
export * from './protocols.ts';
export * from './hash.ts';
export * from './hll.ts';
export * from './http-body.ts';
export * from './health.ts';
export * from './single-flight.ts';
export { RateLimiter } from './ratelimit.ts';
