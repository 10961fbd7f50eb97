/**
 * Screenshots of the README's first hour, taken from the real thing: the script clones this
 * checkout's HEAD into a temporary directory, runs the README's commands there (npm ci,
 * scenario generate --packets, start, softflowd -r, export c2/rpz, audit verify, Ctrl-C),
 * captures what they print, and renders each step as a terminal page in Debian's Chromium into
 * docs/screenshots/terminal/, plus the console's C&C list signed in with the printed token.
 * The admin token is shown as its first 6 characters and an ellipsis.
 *
 *   node --import tsx scripts/terminal-screenshots.ts [--no-install] [outDir]
 *
 * --no-install links this checkout's node_modules instead of running npm ci (and leaves the
 * install screenshot as it is). The default ports are used when free, else free ones, and then
 * the commands shown carry the flags that moved them.
 * Exit codes: 0 written, 1 a step failed (one line on stderr naming it), 2 an unknown option.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { createSocket } from 'node:dgram';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { launchChromium, newConsolePage, openPage, PAGES, ROOT, signIn } from '../src/console/testing.ts';

const args = process.argv.slice(2);
const unknown = args.find((a) => a.startsWith('-') && a !== '--no-install');
if (unknown) {
  process.stderr.write(
    `terminal-screenshots: unknown option ${unknown} (usage: terminal-screenshots.ts [--no-install] [outDir])\n`,
  );
  process.exit(2);
}
const install = !args.includes('--no-install');
const outDir = args.find((a) => !a.startsWith('--')) ?? join(ROOT, 'docs/screenshots/terminal');

/** One command as the reader types it and what it printed (stdout and stderr, in order). */
interface Step {
  command: string;
  output: string;
}

// eslint-disable-next-line no-control-regex -- terminal colour codes start with ESC
const ANSI = /\x1b\[[0-9;?]*[A-Za-z]/g;
/** The admin token is a secret: keep its shape (prefix and first characters) only. */
const redact = (text: string) => text.replace(/\b(tsg_[A-Za-z0-9_-]{2})[A-Za-z0-9_-]+/g, '$1…');

function fail(message: string): never {
  process.stderr.write(`terminal-screenshots: ${message}\n`);
  process.exit(1);
}

/** Runs `command` through sh in `cwd`, stdout and stderr interleaved as a terminal shows them. */
function run(command: string, cwd: string, timeoutMs = 600_000): Step {
  const result = spawnSync('sh', ['-c', `${command} 2>&1`], { cwd, encoding: 'utf8', timeout: timeoutMs });
  if (result.status !== 0) fail(`"${command}" exited ${result.status}: ${result.stdout?.slice(-500)}`);
  return { command, output: result.stdout };
}

async function tcpFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

async function udpFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createSocket('udp4');
    socket.once('error', () => resolve(false));
    socket.bind(port, '0.0.0.0', () => socket.close(() => resolve(true)));
  });
}

async function freeTcpPort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** The README's `start` when its ports are free; otherwise the same with free ports named. */
async function startCommand(): Promise<{ flags: string; flowPort: number; hubPort: number }> {
  const defaults =
    (await udpFree(2055)) &&
    (await udpFree(4739)) &&
    (await udpFree(6343)) &&
    (await tcpFree(8470)) &&
    (await tcpFree(9470));
  if (defaults) return { flags: '', flowPort: 2055, hubPort: 8470 };
  const flowPort = await freeTcpPort(); // a free TCP number is almost always free for UDP too
  const hubPort = await freeTcpPort();
  const metricsPort = await freeTcpPort();
  return {
    flags: ` --listen 127.0.0.1:${flowPort} --hub 127.0.0.1:${hubPort} --metrics 127.0.0.1:${metricsPort}`,
    flowPort,
    hubPort,
  };
}

/**
 * Runs argv[1] through sh on a pseudo-terminal, relaying what it prints and passing Ctrl-C
 * (SIGINT) on: `start` then writes what a person at a terminal sees, not its JSON log.
 */
const ON_A_TERMINAL = `
import os, pty, signal, sys
pid, fd = pty.fork()
if pid == 0:
    os.execvp('sh', ['sh', '-c', 'exec ' + sys.argv[1]])
signal.signal(signal.SIGINT, lambda *_: os.kill(pid, signal.SIGINT))
while True:
    try:
        data = os.read(fd, 65536)
    except OSError:
        break
    if not data:
        break
    os.write(1, data)
sys.exit(os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]))
`;

/** A long-running command, on a terminal, whose output is collected while other steps run. */
class Background {
  readonly child: ChildProcess;
  output = '';
  constructor(
    readonly command: string,
    cwd: string,
  ) {
    this.child = spawn('python3', ['-c', ON_A_TERMINAL, command], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    // A terminal ends its lines with \r\n; the patterns below (and the pages) take \n.
    this.child.stdout!.on(
      'data',
      (chunk: Buffer) => (this.output += chunk.toString().replace(/\r\n/g, '\n')),
    );
  }
  async waitFor(pattern: RegExp, timeoutMs: number, what: string): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!pattern.test(this.output)) {
      if (this.child.exitCode !== null)
        fail(`"${this.command}" ended before ${what}: ${this.output.slice(-500)}`);
      if (Date.now() > deadline) fail(`no ${what} within ${timeoutMs / 1000} s: ${this.output.slice(-500)}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  /** Ctrl-C, as the README says; resolves with the exit code. */
  async interrupt(): Promise<number | null> {
    const exited = new Promise<number | null>((resolve) => this.child.once('exit', (code) => resolve(code)));
    this.child.kill('SIGINT');
    return exited;
  }
}

/** What stays on the screen: no colour codes, and of a line redrawn with \r its last text. */
const asTerminalShows = (text: string) =>
  text
    .replace(ANSI, '')
    .split('\n')
    .map((line) => line.replace(/\r+$/, '').split('\r').at(-1))
    .join('\n');

const escapeHtml = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** A terminal window: title bar, then `$ command` lines and their output. */
function terminalHtml(title: string, steps: readonly Step[]): string {
  const body = steps
    .map((s) => {
      const prompt = s.command
        ? `<span class="prompt">$</span> <span class="cmd">${escapeHtml(s.command)}</span>\n`
        : '';
      return prompt + escapeHtml(redact(asTerminalShows(s.output)).replace(/\n+$/, ''));
    })
    .join('\n');
  return `<!doctype html><html><head><meta charset="utf-8"><style>
  body { margin: 0; background: #d9dde3; padding: 16px; font-family: 'DejaVu Sans Mono', 'Noto Sans Mono CJK JP', monospace; }
  .window { width: 1120px; border-radius: 8px; overflow: hidden; box-shadow: 0 4px 16px rgba(0,0,0,.35); }
  .bar { background: #3a3f47; color: #cfd3da; font: 13px sans-serif; padding: 7px 12px; }
  .bar i { display: inline-block; width: 11px; height: 11px; border-radius: 50%; margin-right: 6px; vertical-align: -1px; }
  pre { margin: 0; background: #1e2127; color: #d7dae0; font-size: 13px; line-height: 1.45; padding: 12px 14px;
        white-space: pre-wrap; word-break: break-all; font-family: inherit; }
  .prompt { color: #7ec699; } .cmd { color: #ffffff; font-weight: bold; }
  </style></head><body><div class="window"><div class="bar"><i style="background:#ff5f56"></i><i style="background:#ffbd2e"></i><i style="background:#27c93f"></i>&nbsp;${escapeHtml(title)}</div><pre>${body}</pre></div></body></html>`;
}

async function main(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'tsunagi-first-hour-'));
  const clone = join(work, 'tsunagi');
  const shots: { name: string; title: string; steps: Step[] }[] = [];
  let start: Background | undefined;
  const browser = await launchChromium();
  try {
    const cloneStep = run(`git clone --quiet --no-local ${ROOT} ${clone}`, work);
    const head = spawnSync('git', ['rev-parse', '--short', 'HEAD'], {
      cwd: ROOT,
      encoding: 'utf8',
    }).stdout.trim();
    if (install) {
      const npm = run('npm ci --no-fund --no-audit', clone, 1_800_000);
      shots.push({
        name: '01-install',
        title: `a fresh clone (${head}): install`,
        steps: [{ ...cloneStep, command: 'git clone https://github.com/…/tsunagi && cd tsunagi' }, npm],
      });
    } else {
      symlinkSync(join(ROOT, 'node_modules'), join(clone, 'node_modules'));
      run('npm run build:console', clone); // what npm ci's prepare step does
    }

    const generate = run(
      'bin/tsunagi scenario generate --profile classic --hours 1 --subscribers 100 --bot-fraction 0.15 --start now --packets capture.pcap --bots bots.csv',
      clone,
    );
    const bots = run('head -4 bots.csv', clone);
    shots.push({
      name: '02-capture',
      title: 'a capture with bots in it, and the bot list with families',
      steps: [generate, bots],
    });

    const { flags, flowPort, hubPort } = await startCommand();
    start = new Background(`bin/tsunagi start --bots bots.csv --subscribers 198.18.0.0/15${flags}`, clone);
    await start.waitFor(/more tokens:.*\n(?:.*\n){2}/, 60_000, 'sign-in lines');
    const startup = start.output;
    shots.push({
      name: '03-start',
      title: 'tsunagi start: the admin token, once',
      steps: [{ command: start.command, output: startup }],
    });
    const token = /\btsg_[A-Za-z0-9_-]+/.exec(startup)?.[0];
    if (!token) fail('start printed no admin token');

    const softflowd = run(
      `softflowd -r capture.pcap -n 127.0.0.1:${flowPort} -v 9 -d -c none -p softflowd.pid`,
      clone,
    );
    shots.push({
      name: '04-softflowd',
      title: 'softflowd replays the capture into the collector',
      steps: [softflowd],
    });

    await start.waitFor(/^C&C [\s\S]*flows\/s/m, 60_000, 'detection');
    await new Promise((r) => setTimeout(r, 6000)); // the rest of the candidates and one more rate line
    shots.push({
      name: '05-detection',
      title: "tsunagi start's log while softflowd replays: C&C servers with their families",
      steps: [{ command: '', output: start.output.slice(startup.length) }],
    });

    const exportC2 = run('bin/tsunagi export c2', clone);
    const rpz = run('bin/tsunagi export rpz', clone);
    const audit = run('bin/tsunagi audit verify', clone);
    shots.push({
      name: '06-export',
      title: 'in a second terminal: the C&C list, the RPZ zone, the audit chain',
      steps: [exportC2, rpz, audit],
    });

    // The console, signed in with the printed token: the C&C list with its families.
    const page = await newConsolePage(browser, 'ja');
    const url = `http://127.0.0.1:${hubPort}`;
    await signIn(page, url, token);
    const c2 = PAGES.find((p) => p.name === 'c2')!;
    await openPage(page, c2.hash, '[data-testid=indicator-table] tbody tr');
    await page.waitForTimeout(300);
    mkdirSync(outDir, { recursive: true });
    await page.screenshot({ path: join(outDir, '07-console-c2-ja.png') });
    await page.context().close();
    process.stderr.write('07-console-c2-ja.png\n');

    const before = start.output.length;
    const code = await start.interrupt();
    if (code !== 0) fail(`start exited ${code} on Ctrl-C`);
    shots.push({
      name: '08-stop',
      title: `Ctrl-C in the first terminal: start stops, exit code ${code}`,
      steps: [{ command: '', output: `^C${start.output.slice(before)}` }],
    });
    start = undefined;

    for (const shot of shots) {
      const page = await browser.newPage({ viewport: { width: 1152, height: 200 } });
      await page.setContent(terminalHtml(shot.title, shot.steps));
      await page.locator('.window').screenshot({ path: join(outDir, `${shot.name}.png`) });
      await page.close();
      process.stderr.write(`${shot.name}.png\n`);
    }
  } finally {
    if (start) await start.interrupt();
    await browser.close();
    rmSync(work, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => fail((error as Error).message));
