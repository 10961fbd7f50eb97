import { test } from 'node:test';
import assert from 'node:assert/strict';
import { commandName, signInInstructions } from './first-run.ts';

test('the printed command is the one the user can type: bin/tsunagi in a checkout, tsunagi on PATH', () => {
  assert.equal(
    commandName('/home/you/tsunagi/bin/tsunagi', '/home/you/tsunagi', '/usr/bin:/bin'),
    'bin/tsunagi',
  );
  assert.equal(commandName('bin/tsunagi', '/home/you/tsunagi', ''), 'bin/tsunagi');
  assert.equal(commandName('/usr/local/bin/tsunagi', '/srv', '/usr/local/bin:/usr/bin'), 'tsunagi');
  assert.equal(commandName('/opt/tsunagi/bin/tsunagi', '/srv/data', '/usr/bin'), '/opt/tsunagi/bin/tsunagi');
  assert.equal(commandName(undefined, '/srv', ''), 'tsunagi');
});

test('the sign-in lines carry the token, the console address and a command that works', () => {
  const text = signInInstructions(
    { organisation: 'Analysis Centre', token: 'tsg_secret' },
    'http://127.0.0.1:8470',
    '/home/you/tsunagi/.tsunagi',
    'bin/tsunagi',
  );
  assert.match(text, /^ {14}tsg_secret$/m);
  assert.match(text, /paste it on http:\/\/127\.0\.0\.1:8470\//);
  assert.match(
    text,
    /more tokens: bin\/tsunagi token create --org 'Analysis Centre' --data \/home\/you\/tsunagi\/\.tsunagi/,
  );
});
