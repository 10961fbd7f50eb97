/** Test helper run as a child process: `tsunagi serve` on a data directory, for the SIGKILL test. */
import { runServe } from '../commands/serve.ts';
import { ServeConfig } from '../hub-stack.ts';

const [dataDir] = process.argv.slice(2);
const config = ServeConfig.parse({
  data: dataDir,
  log: { level: 'silent' },
  hub: { listen: '127.0.0.1:0', publishIntervalMs: 0 },
});
await runServe(
  config,
  { stdout: process.stdout, stderr: process.stderr, env: {}, interactive: false },
  () => new Promise(() => {}),
);
