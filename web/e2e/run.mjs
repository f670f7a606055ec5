#!/usr/bin/env node
// Browser end-to-end tests: starts the real server (a fresh data directory with the demo trust,
// plain HTTP on a loopback port), then runs every e2e/*.spec.mjs with Node's test runner against
// it in Debian's headless Chromium, driven by playwright-core. Screenshots of every screen visited
// go to e2e/screenshots/ (cleared at the start of each run).
//
//   node e2e/run.mjs ../bin/wardline [spec names...]
//
// Without Chromium the run is skipped with a message, unless WARDLINE_TEST_REQUIRE_ALL=1.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEMO, apiLogin, chromiumPath } from './lib.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const requireAll = process.env.WARDLINE_TEST_REQUIRE_ALL === '1';

function fail(msg) {
  console.error(`e2e: ${msg}`);
  process.exit(1);
}

const [binaryArg, ...only] = process.argv.slice(2);
if (!binaryArg) fail('usage: node e2e/run.mjs <path-to-wardline-binary> [spec names...]');
const binary = resolve(binaryArg);
if (!existsSync(binary)) fail(`no wardline binary at ${binary}; run make build first`);

const chromium = chromiumPath();
if (!chromium) {
  const msg = 'Chromium not found (install Debian\'s chromium: apt-get install -y chromium, or set WARDLINE_CHROMIUM)';
  if (requireAll) fail(`${msg}; WARDLINE_TEST_REQUIRE_ALL=1, so this is a failure`);
  console.log(`e2e: SKIP browser tests: ${msg}`);
  process.exit(0);
}

const shots = join(here, 'screenshots');
rmSync(shots, { recursive: true, force: true });
mkdirSync(shots, { recursive: true });

const specs = readdirSync(here)
  .filter((f) => f.endsWith('.spec.mjs'))
  .filter((f) => only.length === 0 || only.some((o) => f.startsWith(o)))
  .sort()
  .map((f) => join(here, f));
if (specs.length === 0) fail('no spec files matched');

const dataDir = mkdtempSync(join(tmpdir(), 'wardline-e2e-'));
const started = Date.now();
const server = await startServer(binary, dataDir);
console.log(`e2e: server ${server.url} ready in ${Date.now() - started} ms; Chromium ${chromium}`);

let code = 1;
try {
  const specEnv = {
    WARDLINE_E2E_URL: server.url,
    WARDLINE_E2E_PASSWORD: server.password,
    WARDLINE_E2E_SCREENSHOTS: shots,
    WARDLINE_CHROMIUM: chromium,
    // The demo users' authenticator secrets, as `serve --demo` printed them.
    WARDLINE_E2E_TOTP_SECRETS: JSON.stringify(server.secrets),
    // The last TOTP step each user spent: the server takes no code twice, across spec files too.
    WARDLINE_E2E_TOTP_STATE: join(dataDir, 'e2e-totp-steps.json'),
    // For specs that run an admin command beside the server (`wardline admin create-org`).
    WARDLINE_E2E_BINARY: binary,
    WARDLINE_E2E_DATA_DIR: dataDir,
  };
  Object.assign(process.env, specEnv);
  // One admin token for the run's set-up calls, so that specs need not spend Sam's codes on it.
  specEnv.WARDLINE_E2E_ADMIN_TOKEN = (await apiLogin(DEMO.sam)).token;
  code = await runSpecs(specs, specEnv);
} finally {
  await server.stop();
  if (code === 0) rmSync(dataDir, { recursive: true, force: true });
  else console.error(`e2e: server data kept in ${dataDir}; its log: ${join(dataDir, 'e2e-server.log')}`);
}
console.log(`e2e: ${code === 0 ? 'passed' : 'FAILED'} in ${((Date.now() - started) / 1000).toFixed(1)} s; screenshots in ${shots}`);
process.exit(code);

// Starts `wardline serve --demo` on a free loopback port and waits for its `listening on` line.
function startServer(bin, dir) {
  return new Promise((resolveStart, rejectStart) => {
    const child = spawn(bin, ['serve', '--demo', '--http', '--data-dir', dir, '--addr', '127.0.0.1:0'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let password = null;
    const logChunks = [];
    child.stderr.on('data', (b) => logChunks.push(b));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      rejectStart(new Error(`server did not print "listening on" within 20 s; stdout:\n${out}`));
    }, 20_000);
    const exited = new Promise((r) => child.once('exit', r));
    child.once('exit', (c) => {
      clearTimeout(timer);
      rejectStart(new Error(`server exited (${c}) before listening; stdout:\n${out}\nstderr:\n${Buffer.concat(logChunks)}`));
    });
    child.stdout.on('data', (b) => {
      out += b;
      password ??= out.match(/password: (\S+)/)?.[1] ?? null;
      const url = out.match(/^listening on (\S+)$/m)?.[1];
      const secrets = Object.fromEntries([...out.matchAll(/^\s+(\S+@\S+)\s.*TOTP secret (\S+)\s*$/gm)].map((m) => [m[1], m[2]]));
      if (!url) return;
      clearTimeout(timer);
      if (!password) {
        child.kill('SIGKILL');
        rejectStart(new Error(`no demo password in the server's output:\n${out}`));
        return;
      }
      if (Object.keys(secrets).length === 0) {
        child.kill('SIGKILL');
        rejectStart(new Error(`no demo TOTP secrets in the server's output:\n${out}`));
        return;
      }
      resolveStart({
        url,
        password,
        secrets,
        async stop() {
          child.kill('SIGTERM');
          const t = setTimeout(() => child.kill('SIGKILL'), 5000);
          await exited;
          clearTimeout(t);
          const { writeFileSync } = await import('node:fs');
          writeFileSync(join(dir, 'e2e-server.log'), Buffer.concat(logChunks));
        },
      });
    });
  });
}

// Runs the spec files with Node's own test runner, one file after another (each file opens its
// own browser; on two cores, parallel browsers only slow each other down).
function runSpecs(files, env) {
  return new Promise((r) => {
    const child = spawn(process.execPath, ['--test', '--test-reporter=spec', '--test-concurrency=1', '--test-timeout=150000', ...files], {
      stdio: 'inherit',
      env: { ...process.env, ...env },
      cwd: dirname(here),
    });
    child.once('exit', (c, sig) => r(sig ? 1 : (c ?? 1)));
  });
}
