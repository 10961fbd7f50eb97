/** packet/: pcap and pcapng reading and writing, and link/IP/L4 header parsing. */
export {
  CaptureFile,
  createCaptureParser,
  forEachPacket,
  forEachPacketInBuffer,
  openCapture,
  readCapture,
  type FastPath,
  type OpenCaptureOptions,
  type PacketCallback,
} from './capture.ts';
export { isPcapMagic, PcapParser, type PcapFormat } from './pcap.ts';
export { isPcapngMagic } from './pcapng.ts';
export {
  CapturePacket,
  createCaptureStats,
  type CaptureErrors,
  type CaptureParser,
  type CaptureStats,
} from './record.ts';
export { IpProto, PacketInfo, parseFrame, parseIpPacket, ParseResult, ParseResultLabel } from './headers.ts';
export {
  buildTcpFrame,
  buildUdpFrame,
  internetChecksum,
  LinkType,
  PcapngWriter,
  PcapWriter,
  TcpFlag,
  type FrameOptions,
  type PcapngInterfaceOptions,
  type PcapWriterOptions,
  type TcpFrameOptions,
} from './writer.ts';
