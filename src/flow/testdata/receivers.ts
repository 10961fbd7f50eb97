/** The UDP receive paths the collector tests run against: the recvmmsg addon and node's dgram. */
import { loadNativeUdp } from '../input/udp/native/index.ts';

export interface ReceivePathCase {
  receiver: 'native' | 'dgram';
  /** A skip message when the path cannot run here. */
  skip: string | false;
}

const native = loadNativeUdp();

export const RECEIVE_PATHS: readonly ReceivePathCase[] = [
  { receiver: 'native', skip: native.error ? `native receiver: ${native.error}` : false },
  { receiver: 'dgram', skip: false },
];
