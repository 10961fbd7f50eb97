/**
 * Runs the device lab in its own process (for the benchmark): prints `ready DIR EXPECT-JSON`
 * (what a correct survey should identify, by address) and stops on SIGTERM.
 */
import { startLab } from './lab.ts';

const net = Number(process.argv[2] ?? 77);
const absent = (process.argv[3] ?? '').split(',').filter(Boolean);
const lab = await startLab({ net, absent });
const expect = Object.fromEntries(Object.values(lab.devices).map((d) => [d.device.host, d.expect]));
process.stdout.write(`ready ${lab.dir} ${JSON.stringify(expect)}\n`);
const stop = () => {
  lab.stop().then(
    () => process.exit(0),
    () => process.exit(1),
  );
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
