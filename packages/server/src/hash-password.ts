/**
 * `npm run hash-password`: prints the scrypt hash of a password for `auth.users[].passwordHash` (secure-domain mode).
 *
 * The password is read from the terminal without echo (asked twice), or from standard input when that is not a
 * terminal (`printf '%s' "$PASSWORD" | npm run -s hash-password`; one trailing newline is dropped). It is never
 * taken from the command line, where it would end up in the shell history and the process list. Only the hash is
 * written to standard output; prompts go to standard error.
 */
import { hashPassword } from '@jitsi-one/xmpp';

/** Read one line from a TTY with echo off. Ctrl-C and Ctrl-D abort. */
function readHidden(prompt: string): Promise<string> {
  const stdin = process.stdin;
  process.stderr.write(prompt);
  return new Promise((resolve, reject) => {
    let value = '';
    stdin.setRawMode(true);
    stdin.setEncoding('utf8');
    stdin.resume();
    const done = (err?: Error): void => {
      stdin.off('data', onData);
      stdin.setRawMode(false);
      stdin.pause();
      process.stderr.write('\n');
      if (err) reject(err);
      else resolve(value);
    };
    const onData = (chunk: string): void => {
      for (const ch of chunk) {
        if (ch === '\r' || ch === '\n') return done();
        if (ch === '\u0003' || ch === '\u0004') return done(new Error('aborted'));
        if (ch === '\u007f' || ch === '\b') value = value.slice(0, -1);
        else if (ch >= ' ') value += ch;
      }
    };
    stdin.on('data', onData);
  });
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
  return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
}

async function main(): Promise<void> {
  if (process.argv.length > 2) {
    process.stderr.write('usage: npm run hash-password   (the password is read from the terminal or standard input, never from arguments)\n');
    process.exit(2);
  }
  let password: string;
  if (process.stdin.isTTY) {
    password = await readHidden('Password: ');
    const again = await readHidden('Repeat password: ');
    if (again !== password) {
      process.stderr.write('hash-password: the passwords differ\n');
      process.exit(1);
    }
  } else {
    password = await readStdin();
  }
  if (password === '') {
    process.stderr.write('hash-password: empty password\n');
    process.exit(1);
  }
  process.stdout.write(`${await hashPassword(password)}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`hash-password: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
