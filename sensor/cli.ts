/** The bundle's entry point: runs the command, then ends the process with its exit code. */
import { main } from './main.ts';

const code = await main(process.argv.slice(2));
const flushed = (stream: NodeJS.WriteStream) =>
  new Promise<void>((resolve) => stream.write('', () => resolve()));
await Promise.all([flushed(process.stdout), flushed(process.stderr)]);
process.exit(code);
