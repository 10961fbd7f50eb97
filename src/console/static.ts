/**
 * Serves the built single-page app from memory with a strict Content-Security-Policy: scripts,
 * styles and connections only from this origin, nothing inline, no framing. index.html answers
 * `/` and the public `/check` page; hashed assets are cached for a year.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join, relative, sep } from 'node:path';
import type { FastifyInstance } from 'fastify';

export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "manifest-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
};
/** The built app is a few hundred kilobytes; refuse to hold anything absurd in memory. */
const MAX_TOTAL_BYTES = 32 << 20;

export interface StaticFile {
  body: Buffer;
  type: string;
}

/** Reads the build into memory; an empty map when there is no build. */
export function loadDist(dir: string): Map<string, StaticFile> {
  const files = new Map<string, StaticFile>();
  let total = 0;
  const walk = (d: string) => {
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      const path = join(d, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.isFile()) {
        total += statSync(path).size;
        if (total > MAX_TOTAL_BYTES)
          throw new Error(`console build in ${dir} is larger than ${MAX_TOTAL_BYTES} bytes`);
        const type = TYPES[extname(entry.name)];
        if (type)
          files.set(`/${relative(dir, path).split(sep).join('/')}`, { body: readFileSync(path), type });
      }
    }
  };
  try {
    if (!statSync(dir).isDirectory()) return files;
  } catch {
    return files;
  }
  walk(dir);
  return files;
}

export function registerStatic(app: FastifyInstance, files: () => Map<string, StaticFile>): void {
  const sendIndex = async (_request: unknown, reply: import('fastify').FastifyReply) => {
    const index = files().get('/index.html');
    if (!index) {
      return reply
        .code(503)
        .type('text/plain; charset=utf-8')
        .send('The console is not built. Run `npm run build:console` and restart.\n');
    }
    return reply.header('cache-control', 'no-cache').type(index.type).send(index.body);
  };
  app.get('/', sendIndex);
  app.get('/check', sendIndex);
  app.get<{ Params: { file: string } }>(
    '/assets/:file',
    {
      schema: {
        params: {
          type: 'object',
          properties: { file: { type: 'string', maxLength: 200, pattern: '^[A-Za-z0-9._-]+$' } },
        },
      },
    },
    async (request, reply) => {
      const file = files().get(`/assets/${request.params.file}`);
      if (!file) return reply.code(404).type('text/plain; charset=utf-8').send('not found\n');
      return reply
        .header('cache-control', 'public, max-age=31536000, immutable')
        .type(file.type)
        .send(file.body);
    },
  );
  app.get('/favicon.svg', async (_request, reply) => {
    const file = files().get('/favicon.svg');
    if (!file) return reply.code(404).send();
    return reply.header('cache-control', 'public, max-age=86400').type(file.type).send(file.body);
  });
}
