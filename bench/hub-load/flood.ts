/**
 * The anonymous flood of run.ts, in its own process so that its 26 MB writes and the readers do
 * not share one event loop (sharing one delayed the flood's own answers by seconds): LOOPS loops
 * POST a large envelope without a token on fresh connections until SECONDS have passed, then
 * print the answers as one JSON object (status or error code -> count).
 */
import http from 'node:http';

const [url, secondsText, bodyMbText, loopsText] = process.argv.slice(2);
if (!url) {
  process.stderr.write('usage: flood.ts URL SECONDS BODY_MB LOOPS\n');
  process.exit(2);
}
const deadline = performance.now() + Number(secondsText ?? 30) * 1000;
const TAXII = 'application/taxii+json;version=2.1';

/** A valid-JSON envelope of about `mb` MB with more objects than the hub accepts. */
function floodBody(mb: number): Buffer {
  const object = '{"type":"indicator","spec_version":"2.1","id":"indicator--x","pattern":"[x]"},';
  const count = Math.ceil((mb * 1024 * 1024) / object.length);
  return Buffer.from(`{"objects":[${object.repeat(count - 1)}{}]}`);
}

const body = floodBody(Number(bodyMbText ?? 26));
const answers: Record<string, number> = {};

function post(): Promise<string> {
  return new Promise((resolve) => {
    let done = false;
    const finish = (what: string) => {
      if (done) return;
      done = true;
      resolve(what);
    };
    const request = http.request(url!, {
      method: 'POST',
      agent: false,
      headers: { accept: TAXII, 'content-type': TAXII, 'content-length': String(body.length) },
    });
    request.on('response', (res) => {
      res.resume();
      finish(String(res.statusCode));
    });
    request.on('error', (error: NodeJS.ErrnoException) => finish(error.code ?? 'error'));
    request.setTimeout(Math.max(1000, deadline - performance.now()), () => request.destroy());
    request.end(body);
  });
}

await Promise.all(
  Array.from({ length: Number(loopsText ?? 4) }, async () => {
    while (performance.now() < deadline) {
      const what = await post();
      answers[what] = (answers[what] ?? 0) + 1;
    }
  }),
);
process.stdout.write(`${JSON.stringify(answers)}\n`);
