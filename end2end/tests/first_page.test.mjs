// The login page on a phone's link (issue 23): Chromium throttled to
// 20 Mbit/s and 40 ms round trip (CDP), cold cache then warm. Checks the
// byte budget (what a cold load transfers, and that a warm one fetches no
// asset again); prints the times, which are figures, not assertions
// (README "First page": `VTO_BIN=... end2end/run tests/first_page.test.mjs`).

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startAll, initialize, unexpectedErrors } from '../lib/harness.mjs';

// What a cold load of the login page may transfer (HTML, script, wasm,
// style, icon; compressed, with headers).
// 555 KiB on 2026-12-07 (the wasm 535 KiB, brotli); the goal is
// 250 KiB for the wasm alone: not reached yet.
const COLD_BUDGET = 640 * 1024;
// A warm load: the page itself and nothing else.
const WARM_BUDGET = 32 * 1024;

const THROTTLE = {
  offline: false,
  latency: 40,
  downloadThroughput: (20e6 / 8) | 0,
  uploadThroughput: (20e6 / 8) | 0,
};

/** Loads /login until it is usable; returns the time and what came over the wire. */
async function load(page, cdp, url) {
  const requests = new Map();
  const onResponse = (e) => {
    const r = requests.get(e.requestId) ?? {};
    requests.set(e.requestId, {
      ...r,
      url: e.response.url,
      encoding: e.response.headers['content-encoding'] ?? e.response.headers['Content-Encoding'] ?? '',
      status: e.response.status,
      cached: r.cached || e.response.fromDiskCache || e.response.fromMemoryCache || false,
    });
  };
  const onFinished = (e) => {
    const r = requests.get(e.requestId) ?? {};
    requests.set(e.requestId, { ...r, bytes: e.encodedDataLength });
  };
  const onCache = (e) => {
    const r = requests.get(e.requestId) ?? {};
    requests.set(e.requestId, { ...r, cached: true });
  };
  cdp.on('Network.responseReceived', onResponse);
  cdp.on('Network.loadingFinished', onFinished);
  cdp.on('Network.requestServedFromCache', onCache);
  const start = Date.now();
  await page.goto(`${url}/login`);
  // Usable: hydrated, and the Login button takes a click.
  await page.waitForSelector('html[data-hydrated="true"]', { timeout: 30000 });
  await page.waitForSelector('#login button[type=submit]:enabled', { timeout: 30000 });
  const ms = Date.now() - start;
  cdp.off('Network.responseReceived', onResponse);
  cdp.off('Network.loadingFinished', onFinished);
  cdp.off('Network.requestServedFromCache', onCache);
  const list = [...requests.values()].filter((r) => r.url);
  const bytes = list.reduce((n, r) => n + (r.cached ? 0 : r.bytes ?? 0), 0);
  return { ms, bytes, list };
}

describe('first page on a phone link', { timeout: 120000 }, () => {
  let env;
  before(async () => {
    env = await startAll({ viewport: { width: 390, height: 844 } });
    await initialize(env.page, env.url);
  });
  after(async () => {
    await env?.close();
  });

  it('stays within the byte budget, cold and warm', async () => {
    const { context, url, errors } = env;
    // A fresh page in the same browser, with an empty cache.
    const page = await context.newPage();
    const cdp = await context.newCDPSession(page);
    await cdp.send('Network.enable');
    await cdp.send('Network.clearBrowserCache');
    await cdp.send('Network.emulateNetworkConditions', THROTTLE);

    const cold = await load(page, cdp, url);
    const wasm = cold.list.find((r) => r.url.endsWith('.wasm'));
    assert.ok(wasm, `the wasm was loaded: ${JSON.stringify(cold.list)}`);
    assert.equal(wasm.encoding, 'br', 'the wasm comes brotli-compressed');
    assert.match(wasm.url, /\/pkg\/frontend\.[0-9a-f]{16}_bg\.wasm$/);
    assert.ok(
      cold.bytes <= COLD_BUDGET,
      `a cold load transferred ${cold.bytes} bytes, over the budget of ${COLD_BUDGET}`,
    );

    const warm = await load(page, cdp, url);
    const fetched = warm.list.filter((r) => !r.cached && !r.url.endsWith('/login'));
    assert.deepEqual(
      fetched.map((r) => `${r.url} ${r.status}`),
      [],
      'a warm load takes every asset from the cache',
    );
    assert.ok(warm.bytes <= WARM_BUDGET, `a warm load transferred ${warm.bytes} bytes`);
    assert.deepEqual(unexpectedErrors(errors), []);

    // The figures (for the README; not asserted: times vary by machine).
    const kib = (n) => (n / 1024).toFixed(1);
    console.log(
      `first-page: 20 Mbit/s, 40 ms; cold ${cold.ms} ms ${kib(cold.bytes)} KiB` +
        ` (wasm ${kib(wasm.bytes)} KiB); warm ${warm.ms} ms ${kib(warm.bytes)} KiB`,
    );
    await page.close();
  });
});
