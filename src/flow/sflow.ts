/**
 * sFlow v5 decoding. Placeholder while the decoder is written: every datagram is counted as
 * unsupported.
 */
import type { ErrorCounter, PayloadDecoder } from './types.ts';

export interface SflowDecoderDeps {
  countError: ErrorCounter;
}

export function createSflowDecoder(deps: SflowDecoderDeps): PayloadDecoder {
  return () => {
    deps.countError('sflow5', 'unsupported');
    return 0;
  };
}
