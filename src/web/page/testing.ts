/**
 * Test helper: pages served on 127.0.0.1 (a port the kernel picks) for the page check's tests.
 * close() destroys the open sockets first, so a page left loading does not hold the server.
 */
import { createServer, type IncomingMessage, type RequestListener } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface ServedPages {
  /** `http://127.0.0.1:PORT`. */
  base: string;
  close(): Promise<void>;
}

/** `upgrade` answers a request to switch protocols (a WebSocket's), as node's `upgrade` event. */
export async function servePages(
  handler: RequestListener,
  upgrade?: (request: IncomingMessage, socket: Socket, head: Buffer) => void,
): Promise<ServedPages> {
  const server = createServer(handler);
  if (upgrade) server.on('upgrade', upgrade);
  const sockets = new Set<Socket>();
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
