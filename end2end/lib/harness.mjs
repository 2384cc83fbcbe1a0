// Starts the real vto binary and a real Chromium for the browser tests.
// Run inside a network namespace with only loopback (see ./run).

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createHmac } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { once } from 'node:events';
import { setTimeout as delay } from 'node:timers/promises';
import { chromium } from 'playwright-core';
import { eventually, expectText } from './wait.mjs';

// Every process a test starts (vto and the peers) leads a process group of
// its own, so that what it forks goes with it; stopping one ends the whole
// group and waits until it is gone. Groups still running when the test
// file's process ends (a failed `before`, an exception, Ctrl-C) are killed
// on the way out.
const groups = new Set();

/** Whether a live process (not a zombie) is in process group `pgid`. */
export function groupAlive(pgid) {
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    let stat;
    try {
      stat = readFileSync(`/proc/${name}/stat`, 'utf8');
    } catch {
      continue;
    }
    // "pid (comm) state ppid pgrp ...": comm may hold spaces and ')'.
    const [state, , pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(pgrp) === pgid && state !== 'Z' && state !== 'X') return true;
  }
  return false;
}

function signalGroup(pgid, signal) {
  // With no member left the id may belong to someone else by now.
  if (!groupAlive(pgid)) return;
  try {
    process.kill(-pgid, signal);
  } catch {
    // Gone in between.
  }
}

function killAllGroups() {
  for (const pgid of groups) signalGroup(pgid, 'SIGKILL');
  groups.clear();
}
process.on('exit', killAllGroups);
for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143], ['SIGHUP', 129]]) {
  process.on(signal, () => {
    killAllGroups();
    process.exit(code);
  });
}

/** `spawn` in a new process group, ended on exit if not before. */
function spawnGroup(command, args, options) {
  const proc = spawn(command, args, { ...options, detached: true });
  const pgid = proc.pid;
  if (pgid) {
    groups.add(pgid);
    // Forgotten once nothing of it is left: the id may be reused then.
    proc.once('exit', () => {
      if (!groupAlive(pgid)) groups.delete(pgid);
    });
  }
  return proc;
}

/**
 * Ends `proc`'s process group: `signal` to all of it, SIGKILL to what is
 * left after `graceMs`, then waits until no member is alive.
 */
async function stopGroup(proc, signal = 'SIGKILL', graceMs = 10000) {
  const pgid = proc.pid;
  if (!pgid) return;
  const exited = proc.exitCode !== null || proc.signalCode !== null
    ? Promise.resolve()
    : once(proc, 'exit');
  signalGroup(pgid, signal);
  // Unreferenced: the grace timer must not keep the test file's process
  // alive once the group is gone.
  const grace = delay(graceMs, false, { ref: false });
  const inTime = await Promise.race([exited.then(() => true), grace]);
  if (!inTime || groupAlive(pgid)) signalGroup(pgid, 'SIGKILL');
  await exited;
  await eventually(`process group ${pgid} gone`, () => !groupAlive(pgid), { timeout: 5000, interval: 20 });
  groups.delete(pgid);
}

export const VTO_BIN = process.env.VTO_BIN ?? resolve(import.meta.dirname, '../../target/release/vto');
export const SHOTS = process.env.VTO_SHOTS ?? resolve(import.meta.dirname, '../test-results');

export const STRONG = 'Door-Bell7x';
export const STRONG2 = 'Gate#Keeper42';

/** Starts vto on a free loopback port with a fresh data dir. */
export async function startVto({ dataDir, args = [], env = {} } = {}) {
  dataDir ??= mkdtempSync(join(tmpdir(), 'vto-e2e-'));
  // Files run side by side: never the default SIP or DHIP port.
  const sip = args.includes('--sip') ? [] : ['--sip', '127.0.0.1:0'];
  const dhip = args.includes('--dhip') ? [] : ['--dhip', '127.0.0.1:0'];
  const rtsp = args.includes('--rtsp') ? [] : ['--rtsp', '127.0.0.1:0'];
  const discovery = args.includes('--discovery') ? [] : ['--discovery', '127.0.0.1:0'];
  const proc = spawnGroup(VTO_BIN, ['--data-dir', dataDir, '--http', '127.0.0.1:0', ...sip, ...dhip, ...rtsp, ...discovery, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...env },
  });
  let stderr = '';
  let stdout = '';
  proc.stderr.on('data', (d) => (stderr += d));
  // Kept for the whole run: a reboot re-executes vto, which prints again.
  proc.stdout.on('data', (d) => (stdout += d));
  const url = await new Promise((res, rej) => {
    const timer = setTimeout(() => {
      stopGroup(proc).catch(() => {});
      rej(new Error(`vto did not start:\n${stderr}`));
    }, 20000);
    proc.stdout.on('data', () => {
      const m = stdout.match(/listening on (http:\/\/\S+)/);
      if (m) {
        clearTimeout(timer);
        res(m[1]);
      }
    });
    proc.on('exit', (code) => rej(new Error(`vto exited with ${code}:\n${stderr}`)));
  });
  return {
    url,
    dataDir,
    proc,
    logs: () => stderr,
    stdout: () => stdout,
    async stop() {
      // SIGTERM: a clean stop (SIGKILL after 10 s).
      await stopGroup(proc, 'SIGTERM');
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  // A fake microphone and camera (a beep and a test picture) for pages
  // that ask for them: answering the door in the browser.
  '--use-fake-device-for-media-stream',
  '--autoplay-policy=no-user-gesture-required',
  // A name for loopback that is not a secure origin (127.0.0.1 and
  // localhost are): the call panel on plain HTTP from another machine.
  '--host-resolver-rules=MAP door.test 127.0.0.1',
];

/** A fresh Chromium with one page; `errors` collects console errors. */
export async function openBrowser({
  viewport = { width: 1280, height: 820 },
  ignoreHTTPSErrors = false,
} = {}) {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    // WebRTC between Chromium and vto runs over loopback here.
    args: [...CHROMIUM_ARGS, '--allow-loopback-in-peer-connection'],
  });
  // ignoreHTTPSErrors: for the device's own self-signed certificate.
  const context = await browser.newContext({ viewport, ignoreHTTPSErrors });
  const page = await context.newPage();
  const errors = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(String(e)));
  return { browser, context, page, errors };
}

/** Waits until the wasm has hydrated the page. */
export async function hydrated(page) {
  await page.waitForSelector('html[data-hydrated="true"]', { timeout: 15000 });
}

export async function shot(page, name) {
  mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
}

/** Console errors other than the browser's note on an expected HTTP error status. */
export function unexpectedErrors(errors, allowedStatuses = []) {
  return errors.filter(
    (e) => !allowedStatuses.some((s) => e.includes(`status of ${s}`)),
  );
}

/** Initializes the device through its UI. */
export async function initialize(page, url, password = STRONG, email = null) {
  await page.goto(`${url}/init`);
  await hydrated(page);
  await page.fill('#password', password);
  await page.fill('#confirm', password);
  await page.click('#init-password button[type=submit]');
  if (email) {
    await page.check('#use-email');
    await page.fill('#email', email);
  }
  await page.click('#init-email button[type=submit]');
  await page.waitForSelector('#init-ok');
}

/** Logs in through the login page and waits for the main interface. */
export async function login(page, url, password = STRONG) {
  await page.goto(`${url}/login`);
  await hydrated(page);
  await page.fill('#password', password);
  await page.click('#login button[type=submit]');
  await page.waitForURL(`${url}/`);
  await hydrated(page);
}

/**
 * Starts a fresh vto and a fresh browser for one test file. `close()` stops
 * both and never throws; call it from an `after` hook or `finally`.
 */
export async function startAll({ args = [], viewport, ignoreHTTPSErrors } = {}) {
  const vto = await startVto({ args });
  let b;
  try {
    b = await openBrowser({ ...(viewport ? { viewport } : {}), ignoreHTTPSErrors });
  } catch (e) {
    await vto.stop();
    throw e;
  }
  // Fail fast instead of playwright's 30 s default.
  b.context.setDefaultTimeout(10000);
  // Without a media permission Chromium gathers no host candidate, so the
  // live view could not connect over loopback.
  await b.context.grantPermissions(['camera', 'microphone'], { origin: vto.url });
  return {
    vto,
    url: vto.url,
    ...b,
    async close() {
      await b.browser.close().catch(() => {});
      await vto.stop().catch(() => {});
    },
  };
}

/** startAll, then initialize the device and log in through the UI. */
export async function startLoggedIn(opts = {}) {
  const env = await startAll(opts);
  try {
    await initialize(env.page, env.url);
    await login(env.page, env.url);
  } catch (e) {
    await env.close();
    throw e;
  }
  return env;
}

/** The server-rendered HTML of `path`, as a browser without JS would get it. */
export async function rawHtml(url, path, headers = {}) {
  const res = await fetch(`${url}${path}`, { redirect: 'manual', headers });
  return { status: res.status, location: res.headers.get('location'), html: await res.text() };
}

/** The pathname of the page's current URL. */
export function pathOf(page) {
  return new URL(page.url()).pathname;
}

/** Until the page's URL has the pathname `path` (a redirect may follow a load). */
export async function expectPath(page, path, message) {
  await eventually(message ?? `at ${path}`, () => assert.equal(pathOf(page), path));
}

/** Opens the header's power menu and clicks one of its items. */
export async function powerMenu(page, item) {
  await page.click('#power-menu');
  await page.getByRole('menuitem', { name: item, exact: true }).click();
}

/** A TCP port free on 127.0.0.1 right now. */
export async function freePort() {
  const { createServer } = await import('node:net');
  const srv = createServer();
  await new Promise((res) => srv.listen(0, '127.0.0.1', res));
  const { port } = srv.address();
  await new Promise((res) => srv.close(res));
  return port;
}

/**
 * Until a field's error line (`#<id>-error`) says `want`: a string is
 * compared with the trimmed text ('' for no error), a RegExp tested.
 */
export function expectFieldError(page, id, want, opts) {
  return expectText(page, `#${id}-error`, want, { message: `error of #${id}`, ...opts });
}

/** Text of a field's error line (`#<id>-error`), trimmed. */
export async function fieldError(page, id) {
  return ((await page.textContent(`#${id}-error`)) ?? '').trim();
}

/** Waits until a field's error line has text, and returns it. */
export async function waitFieldError(page, id) {
  await page.waitForFunction(
    (sel) => (document.querySelector(sel)?.textContent ?? '').trim() !== '',
    `#${id}-error`,
  );
  return fieldError(page, id);
}

/**
 * Text colour against the colour actually behind it (the first ancestor with
 * an opaque background), as a WCAG contrast ratio, for each element matched.
 */
export function contrasts(page, selector) {
  return page.$$eval(selector, (els) => {
    const rgb = (c) => (c.match(/[\d.]+/g) ?? []).map(Number);
    const lum = ([r, g, b]) => {
      const f = (v) => ((v /= 255) <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4);
      return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
    };
    return els.map((el) => {
      let bg = [255, 255, 255];
      for (let e = el; e; e = e.parentElement) {
        const c = rgb(getComputedStyle(e).backgroundColor);
        if (c.length === 3 || (c.length === 4 && c[3] === 1)) {
          bg = c.slice(0, 3);
          break;
        }
      }
      const fg = rgb(getComputedStyle(el).color).slice(0, 3);
      const [a, b] = [lum(fg), lum(bg)].sort((x, y) => y - x);
      return {
        text: el.textContent.trim(),
        color: `rgb(${fg.join(', ')})`,
        background: `rgb(${bg.join(', ')})`,
        ratio: Math.round(((a + 0.05) / (b + 0.05)) * 100) / 100,
      };
    });
  });
}

/**
 * A real SMTP server (Debian's aiosmtpd, tests/peers/smtp_sink.py) on a free
 * loopback port; every mail it accepts is kept as a file.
 */
export async function startSmtpSink(extraArgs = []) {
  const dir = mkdtempSync(join(tmpdir(), 'vto-smtp-'));
  const script = resolve(import.meta.dirname, '../../tests/peers/smtp_sink.py');
  const proc = spawnGroup('/usr/bin/python3', [script, '--dir', dir, ...extraArgs], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  proc.stderr.on('data', (d) => (err += d));
  const port = await new Promise((res, rej) => {
    const timer = setTimeout(() => {
      stopGroup(proc).catch(() => {});
      rej(new Error(`smtp sink did not start:\n${err}`));
    }, 20000);
    proc.stdout.on('data', (d) => {
      out += d;
      const m = out.match(/listening (\d+)/);
      if (m) {
        clearTimeout(timer);
        res(Number(m[1]));
      }
    });
    proc.on('exit', (code) => rej(new Error(`smtp sink exited with ${code}:\n${err}`)));
  });
  const mails = () =>
    readdirSync(dir)
      .filter((n) => n.endsWith('.eml'))
      .sort()
      .map((n) => readFileSync(join(dir, n), 'utf8'));
  return {
    port,
    mails,
    async waitFor(n) {
      return eventually(`${n} mails`, () => {
        const m = mails();
        if (m.length < n) throw new Error(`got ${m.length}`);
        return m;
      });
    },
    async stop() {
      proc.stdin.end();
      await stopGroup(proc, 'SIGTERM');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The security code in a mail (`Security code: XXXX-XXXX-XX`). */
export function securityCode(mail) {
  const m = mail.match(/Security code: ([A-Z0-9-]+)/);
  if (!m) throw new Error(`no security code in:\n${mail}`);
  return m[1];
}

/** RFC 6238 TOTP (SHA-1, 6 digits, 30 s) for a base32 secret at `ms`. */
export function totp(base32, ms = Date.now()) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const c of base32.replace(/=+$/, '')) {
    bits += alphabet.indexOf(c).toString(2).padStart(5, '0');
  }
  const key = Buffer.from(bits.match(/.{8}/g).map((b) => parseInt(b, 2)));
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(ms / 30000)));
  const h = createHmac('sha1', key).update(counter).digest();
  const o = h[h.length - 1] & 15;
  const n = (h.readUInt32BE(o) & 0x7fffffff) % 1000000;
  return String(n).padStart(6, '0');
}

export const CAMERA_USER = 'admin';
export const CAMERA_PASSWORD = 'cam-pass-1';

/**
 * A real RTSP camera: GStreamer's RTSP server (tests/peers/rtsp_server.py)
 * on loopback, H.264 640x480 + PCMU at rtsp://127.0.0.1:PORT/cam/realmonitor,
 * digest auth with CAMERA_USER / CAMERA_PASSWORD. `port` 0: any free one.
 */
export async function startRtspCamera(port = 0) {
  const bound = await startPeer('rtsp_server.py', [String(port), 'av', 'digest', CAMERA_USER, CAMERA_PASSWORD]);
  return {
    port: bound.port,
    url: `rtsp://127.0.0.1:${bound.port}/cam/realmonitor?channel=1&subtype=0`,
    kill: bound.kill,
  };
}

/**
 * An ONVIF camera (tests/peers/onvif_server.py: a real camera's recorded
 * answers) whose streams are the RTSP camera on `rtspPort`.
 */
export async function startOnvifCamera(rtspPort) {
  return startPeer('onvif_server.py', ['0', String(rtspPort), CAMERA_USER, CAMERA_PASSWORD]);
}

/** Runs tests/peers/`script` until it prints "ready PORT": { port, kill }. */
async function startPeer(script, args) {
  const path = resolve(import.meta.dirname, '../../tests/peers', script);
  const proc = spawnGroup('/usr/bin/python3', [path, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  proc.stderr.on('data', (d) => (err += d));
  const port = await new Promise((res, rej) => {
    const timer = setTimeout(() => {
      stopGroup(proc).catch(() => {});
      rej(new Error(`${script} did not start:\n${err}`));
    }, 20000);
    proc.stdout.on('data', (d) => {
      out += d;
      const m = out.match(/ready (\d+)/);
      if (m) {
        clearTimeout(timer);
        res(Number(m[1]));
      }
    });
    proc.on('exit', (code) => rej(new Error(`${script} exited with ${code}:\n${err}`)));
  });
  return {
    port,
    async kill() {
      await stopGroup(proc);
    },
  };
}

/** Keeps every RTCPeerConnection a page makes (for getStats): an init script. */
export const TRACK_PEER_CONNECTIONS = () => {
  const Orig = window.RTCPeerConnection;
  window.__vtoPeerConnections = [];
  window.RTCPeerConnection = function (...args) {
    const pc = new Orig(...args);
    window.__vtoPeerConnections.push(pc);
    return pc;
  };
  window.RTCPeerConnection.prototype = Orig.prototype;
};

/** inbound-rtp video stats of the page's open peer connections. */
export async function videoStats(page) {
  return page.evaluate(async () => {
    const out = [];
    for (const pc of window.__vtoPeerConnections ?? []) {
      if (pc.connectionState === 'closed') continue;
      const stats = await pc.getStats();
      stats.forEach((r) => {
        if (r.type === 'inbound-rtp' && r.kind === 'video') {
          out.push({ framesDecoded: r.framesDecoded ?? 0, width: r.frameWidth, height: r.frameHeight });
        }
      });
    }
    return out;
  });
}

/**
 * Waits until the newest open viewer decodes frames at `width` x `height`
 * and keeps decoding (the count rises by 10 more); returns its stats.
 */
export async function waitDecoding(page, width, height, timeoutMs = 30000) {
  const until = Date.now() + timeoutMs;
  let last = [];
  let base = null;
  while (Date.now() < until) {
    last = await videoStats(page);
    const s = last[last.length - 1];
    if (s && s.width === width && s.height === height && s.framesDecoded > 0) {
      if (base === null) base = s.framesDecoded;
      else if (s.framesDecoded >= base + 10) return s;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`not decoding ${width}x${height}: ${JSON.stringify(last)}`);
}

/** Audio packets received so far by the page's newest open viewer. */
export async function audioPackets(page) {
  return page.evaluate(async () => {
    const pcs = (window.__vtoPeerConnections ?? []).filter((pc) => pc.connectionState !== 'closed');
    const pc = pcs[pcs.length - 1];
    if (!pc) return 0;
    let n = 0;
    (await pc.getStats()).forEach((r) => {
      if (r.type === 'inbound-rtp' && r.kind === 'audio') n = r.packetsReceived ?? 0;
    });
    return n;
  });
}

/** Waits until the newest viewer receives audio packets (50 more). */
export async function waitAudio(page, timeoutMs = 20000) {
  const until = Date.now() + timeoutMs;
  const start = await audioPackets(page);
  while (Date.now() < until) {
    const n = await audioPackets(page);
    if (n >= start + 50) return n;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`no audio: ${start} -> ${await audioPackets(page)} packets`);
}

const SIPP_DIR = resolve(import.meta.dirname, '../../tests/peers/sipp');

/** The SIP address vto printed (`vto sip on 127.0.0.1:PORT`). */
export function sipAddress(vto) {
  const m = vto.stdout().match(/vto sip on (\S+)/);
  if (!m) throw new Error(`no SIP address in:\n${vto.stdout()}`);
  return m[1];
}

/**
 * Runs one sipp scenario of tests/peers/sipp as SIP user `user` (field0)
 * from local `port`, with `fields` after it; resolves with its exit code and
 * output. `password` answers digest challenges.
 */
export function sipp(scenario, target, { user, password, port, fields = [] }) {
  const dir = mkdtempSync(join(tmpdir(), 'vto-sipp-'));
  const users = join(dir, 'users.csv');
  const line = [user, ...fields].map((f) => f.replace(/#/g, '%23')).join(';');
  writeFileSync(users, `SEQUENTIAL\n${line};\n`);
  const args = [target, '-sf', join(SIPP_DIR, scenario), '-inf', users, '-m', '1', '-l', '1',
    '-t', 'u1', '-i', '127.0.0.1', '-p', String(port), '-nd', '-timeout', '20s', '-timeout_error',
    '-max_retrans', '3', '-nostdin'];
  if (password) args.push('-au', user, '-ap', password);
  const proc = spawnGroup('sipp', args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout.on('data', (d) => (out += d));
  proc.stderr.on('data', (d) => (out += d));
  return new Promise((res) => {
    proc.on('exit', (code) => {
      rmSync(dir, { recursive: true, force: true });
      res({ code, out });
    });
  });
}

/**
 * Until something (a sipp waiting for a call) is bound to UDP
 * 127.0.0.1:`port`, read from /proc/net/udp without touching the port.
 */
export async function waitUdpBound(port) {
  const want = `0100007F:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  await eventually(`a peer bound to 127.0.0.1:${port}/udp`, () =>
    readFileSync('/proc/net/udp', 'utf8')
      .split('\n')
      .slice(1)
      .some((l) => l.trim().split(/\s+/)[1] === want),
  );
}

/** Its password (tests/peers/kamailio/registrar.cfg). */
export const KAMAILIO_PASSWORD = 'Kamailio2026Door';

/**
 * Kamailio (tests/peers/kamailio/registrar.cfg) as "another SIP server" on
 * a free loopback port, granting at most `maxExpires` seconds.
 */
export async function startKamailio(maxExpires = 3600) {
  const dir = mkdtempSync(join(tmpdir(), 'vto-kamailio-'));
  const port = await freePort();
  const cfg = resolve(import.meta.dirname, '../../tests/peers/kamailio/registrar.cfg');
  // Kamailio forks its workers: a process group of its own, stopped whole.
  const proc = spawnGroup('kamailio', ['-f', cfg, '-DD', '-E', '-n', '1', '-Y', dir, '-w', dir,
    '-l', `udp:127.0.0.1:${port}`, '-A', 'REG_MIN=1', '-A', `REG_MAX=${maxExpires}`],
  { stdio: ['ignore', 'pipe', 'pipe'] });
  // It says where it listens on stdout, and logs on stderr.
  let log = '';
  proc.stdout.on('data', (d) => (log += d));
  proc.stderr.on('data', (d) => (log += d));
  try {
    await eventually('kamailio listening', () => log.includes(`[127.0.0.1]:${port}`));
  } catch (e) {
    await stopGroup(proc);
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`kamailio did not start:\n${log}`, { cause: e });
  }
  return {
    port,
    log: () => log,
    async stop() {
      await stopGroup(proc, 'SIGTERM');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const BARESIP_CONFIG = resolve(import.meta.dirname, '../../tests/peers/baresip/config');

/** A WAV file: `secs` of a sine tone at `hz`, mono 16-bit at 8000 Hz. */
function toneWav(hz, secs) {
  const rate = 8000;
  const samples = rate * secs;
  const wav = Buffer.alloc(44 + samples * 2);
  wav.write('RIFF', 0);
  wav.writeUInt32LE(36 + samples * 2, 4);
  wav.write('WAVEfmt ', 8);
  wav.writeUInt32LE(16, 16);
  wav.writeUInt16LE(1, 20);
  wav.writeUInt16LE(1, 22);
  wav.writeUInt32LE(rate, 24);
  wav.writeUInt32LE(rate * 2, 28);
  wav.writeUInt16LE(2, 32);
  wav.writeUInt16LE(16, 34);
  wav.write('data', 36);
  wav.writeUInt32LE(samples * 2, 40);
  for (let i = 0; i < samples; i++) {
    wav.writeInt16LE(Math.round(8000 * Math.sin((2 * Math.PI * hz * i) / rate)), 44 + i * 2);
  }
  return wav;
}

/**
 * baresip (Debian's baresip-core) as a real indoor monitor `user` with
 * `password`, registered to `server` (`127.0.0.1:PORT`), its microphone a
 * tone, driven over ctrl_tcp (netstring JSON) like the Rust tests'
 * tests/src/baresip.rs: `command('accept')`, `event('CALL_INCOMING')`.
 */
export async function startBaresip(user, password, server, toneHz = 880) {
  const dir = mkdtempSync(join(tmpdir(), 'vto-baresip-'));
  mkdirSync(join(dir, 'received'));
  writeFileSync(join(dir, 'tone.wav'), toneWav(toneHz, 10));
  // baresip also listens for TLS on the SIP port + 1.
  let sipPort;
  for (let i = 0; i < 50 && !sipPort; i++) {
    const p = await freePort();
    if (p < 65535 && (await portFree(p + 1))) sipPort = p;
  }
  const ctrlPort = await freePort();
  const config = readFileSync(BARESIP_CONFIG, 'utf8')
    .replaceAll('@SIP_PORT@', String(sipPort))
    .replaceAll('@CTRL_PORT@', String(ctrlPort))
    .replaceAll('@DIR@', dir);
  writeFileSync(join(dir, 'config'), config);
  writeFileSync(join(dir, 'accounts'),
    `<sip:${user.replace(/#/g, '%23')}@${server}>;auth_user=${user};auth_pass=${password};regint=600\n`);
  const proc = spawnGroup('baresip', ['-f', dir], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout.on('data', (d) => (out += d));
  proc.stderr.on('data', (d) => (out += d));
  const { connect } = await import('node:net');
  const socket = await eventually('baresip ctrl_tcp', () => new Promise((res, rej) => {
    const s = connect(ctrlPort, '127.0.0.1', () => res(s));
    s.once('error', rej);
  }), { timeout: 10000, interval: 100 });
  const events = [];
  const answers = [];
  let buf = Buffer.alloc(0);
  socket.on('data', (d) => {
    buf = Buffer.concat([buf, d]);
    for (;;) {
      const colon = buf.indexOf(58);
      if (colon < 0) break;
      const len = Number(buf.subarray(0, colon).toString());
      if (buf.length <= colon + 1 + len) break;
      const msg = JSON.parse(buf.subarray(colon + 1, colon + 1 + len).toString());
      buf = buf.subarray(colon + 2 + len);
      (msg.response ? answers : events).push(msg);
    }
  });
  let token = 0;
  const peer = {
    user,
    output: () => out,
    events,
    /** Runs a menu command; resolves with its answer. */
    async command(command, params = '') {
      const t = String(++token);
      const body = JSON.stringify({ command, params, token: t });
      socket.write(`${Buffer.byteLength(body)}:${body},`);
      return eventually(`baresip ${user}: an answer to ${command}`, () => {
        const a = answers.find((m) => m.token === t);
        assert.ok(a);
        return a;
      }, { timeout: 10000, interval: 20 });
    },
    /** The first event of `type` (e.g. CALL_CLOSED), waiting for it. */
    event(type, timeout = 10000) {
      return eventually(`baresip ${user}: ${type}\n${out}`, () => {
        const e = events.find((m) => m.type === type);
        assert.ok(e);
        return e;
      }, { timeout, interval: 20 });
    },
    async stop() {
      socket.destroy();
      await stopGroup(proc);
      rmSync(dir, { recursive: true, force: true });
    },
  };
  try {
    // Registered before ctrl_tcp may have been connected: its line says so.
    await eventually(`baresip ${user} registered`, () => assert.match(out, /200 OK \(.*\) \[\d+ binding/),
      { timeout: 10000, interval: 50 });
  } catch (e) {
    await peer.stop();
    throw e;
  }
  return peer;
}

/** Whether TCP `port` on 127.0.0.1 can be bound now. */
async function portFree(port) {
  const { createServer } = await import('node:net');
  const srv = createServer();
  return new Promise((res) => {
    srv.once('error', () => res(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => res(true)));
  });
}

/** A JSON API call from inside `page` (its session and origin). */
export async function pageApi(page, name, body = {}) {
  return page.evaluate(
    async ([name, body]) => {
      const res = await fetch(`/api/${name}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      return { status: res.status, body: await res.json().catch(() => null) };
    },
    [name, body],
  );
}

/**
 * A veth pair in the test runner's own network namespace (./run starts one):
 * `<name>0` 10.78.0.1/24 and `<name>1` 10.78.0.2/24. Janus gathers ICE
 * candidates only on a non-loopback interface. `remove()` deletes it.
 */
export async function addVeth(name = 'vjanus') {
  const { execFileSync } = await import('node:child_process');
  const ip = (...a) => execFileSync('ip', a, { stdio: ['ignore', 'ignore', 'pipe'] });
  // Never on the host: the runner's namespace has only loopback.
  const links = execFileSync('ip', ['-o', 'link'], { encoding: 'utf8' });
  assert.ok(!/^\d+: (?!lo:)/m.test(links), `not in a loopback-only namespace:\n${links}`);
  ip('link', 'add', `${name}0`, 'type', 'veth', 'peer', 'name', `${name}1`);
  ip('addr', 'add', '10.78.0.1/24', 'dev', `${name}0`);
  ip('addr', 'add', '10.78.0.2/24', 'dev', `${name}1`);
  ip('link', 'set', `${name}0`, 'up');
  ip('link', 'set', `${name}1`, 'up');
  // Both ends are addresses of this namespace: accept packets from them.
  execFileSync('sysctl', ['-qw', `net.ipv4.conf.${name}0.accept_local=1`, `net.ipv4.conf.${name}1.accept_local=1`]);
  return {
    iface: `${name}0`,
    remove() {
      try {
        ip('link', 'del', `${name}0`);
      } catch {
        // Already gone with its peer.
      }
    },
  };
}

/**
 * Janus (Debian's janus) with only its streaming plugin and HTTP API on
 * 127.0.0.1: mountpoint 1 pulls `rtspUrl` (RTSP over UDP, the only way it
 * pulls) with `user`/`password`; ICE on `iface`. { api, logs, kill }.
 */
export async function startJanus({ rtspUrl, user, password, iface }) {
  const { execFileSync } = await import('node:child_process');
  const dir = mkdtempSync(join(tmpdir(), 'vto-janus-'));
  const port = await freePort();
  const lib = resolve(
    execFileSync('dpkg', ['-L', 'janus'], { encoding: 'utf8' })
      .split('\n')
      .find((l) => l.endsWith('/janus/plugins/libjanus_streaming.so')),
    '../..',
  );
  const rtpBase = 20000 + (port % 2000) * 10;
  writeFileSync(join(dir, 'janus.jcfg'), `general: {
  configs_folder = "${dir}"
  plugins_folder = "${lib}/plugins"
  transports_folder = "${lib}/transports"
  events_folder = "${lib}/events"
  loggers_folder = "${lib}/loggers"
  debug_level = 4
  session_timeout = 0
}
media: { rtp_port_range = "${rtpBase}-${rtpBase + 99}" }
nat: { ice_enforce_list = "${iface}" }
plugins: {
  disable = "libjanus_audiobridge.so,libjanus_duktape.so,libjanus_echotest.so,libjanus_lua.so,libjanus_nosip.so,libjanus_recordplay.so,libjanus_sip.so,libjanus_textroom.so,libjanus_videocall.so,libjanus_videoroom.so,libjanus_voicemail.so"
}
transports: {
  disable = "libjanus_mqtt.so,libjanus_nanomsg.so,libjanus_pfunix.so,libjanus_rabbitmq.so,libjanus_websockets.so"
}
loggers: { disable = "libjanus_jsonlog.so" }
events: { broadcast = false }
`);
  writeFileSync(join(dir, 'janus.transport.http.jcfg'), `general: {
  json = "plain"
  base_path = "/janus"
  http = true
  port = ${port}
  ip = "127.0.0.1"
  https = false
}
admin: { admin_http = false, admin_https = false }
`);
  writeFileSync(join(dir, 'janus.plugin.streaming.jcfg'), `general: { events = false }
door: {
  type = "rtsp"
  id = 1
  description = "door"
  audio = false
  video = true
  url = "${rtspUrl}"
  rtsp_user = "${user}"
  rtsp_pwd = "${password}"
  rtsp_reconnect_delay = 1
  rtsp_session_timeout = 0
  rtsp_timeout = 10
  rtsp_conn_timeout = 5
}
`);
  const proc = spawnGroup('janus', ['-C', join(dir, 'janus.jcfg'), '-F', dir, '-o'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let logs = '';
  proc.stdout.on('data', (d) => (logs += d));
  proc.stderr.on('data', (d) => (logs += d));
  let exited = null;
  proc.on('exit', (code) => (exited = code));
  const api = `http://127.0.0.1:${port}/janus`;
  await eventually('Janus answers on its HTTP API', async () => {
    if (exited !== null) throw new Error(`janus exited with ${exited}:\n${logs}`);
    return (await fetch(`${api}/info`)).ok;
  }, { timeout: 20000 });
  return {
    api,
    logs: () => logs,
    async kill() {
      await stopGroup(proc);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
