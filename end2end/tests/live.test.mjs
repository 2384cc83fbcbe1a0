// The main interface's live view: the door camera (the built-in test
// camera) over WebRTC. Chromium decodes frames at the camera's size, the
// count keeps rising, three viewers at once; the snapshot beside it.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startLoggedIn, hydrated, shot, unexpectedErrors } from '../lib/harness.mjs';

/** inbound-rtp video stats of the page's peer connection(s). */
async function videoStats(page) {
  return page.evaluate(async () => {
    const pcs = window.__vtoPeerConnections ?? [];
    const out = [];
    for (const pc of pcs) {
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

/** Keeps every RTCPeerConnection the page makes, for getStats. */
const TRACK_PCS = () => {
  const Orig = window.RTCPeerConnection;
  window.__vtoPeerConnections = [];
  window.RTCPeerConnection = function (...args) {
    const pc = new Orig(...args);
    window.__vtoPeerConnections.push(pc);
    return pc;
  };
  window.RTCPeerConnection.prototype = Orig.prototype;
};

describe('Live view', { timeout: 90000 }, () => {
  let env;
  before(async () => {
    env = await startLoggedIn();
    await env.context.addInitScript(TRACK_PCS);
  });
  after(async () => {
    await env?.close();
  });

  it('the door camera plays live at its size', async () => {
    const { page, url } = env;
    await page.goto(`${url}/`);
    await hydrated(page);
    await page.waitForFunction(
      () => document.querySelector('#live-door-state')?.textContent === 'Live',
      null,
      { timeout: 20000 },
    );
    // Until frames are decoded (getStats is async: polled from here).
    let all = [];
    for (let i = 0; i < 80 && !(all[0]?.framesDecoded > 10); i++) {
      await new Promise((r) => setTimeout(r, 250));
      all = await videoStats(page);
    }
    const first = all[0];
    assert.ok(first?.framesDecoded > 10, `stats: ${JSON.stringify(all)}`);
    assert.equal(first.width, 1280);
    assert.equal(first.height, 720);
    await new Promise((r) => setTimeout(r, 1500));
    const later = (await videoStats(page))[0];
    assert.ok(later.framesDecoded > first.framesDecoded + 10, `${first.framesDecoded} -> ${later.framesDecoded}`);
    const size = await page.$eval('#live-door', (v) => [v.videoWidth, v.videoHeight]);
    assert.deepEqual(size, [1280, 720]);
    await shot(page, 'main-live');
  });

  it('three viewers at once', async () => {
    const { context, url } = env;
    const pages = [];
    for (let i = 0; i < 2; i++) {
      const p = await context.newPage();
      await p.goto(`${url}/`);
      pages.push(p);
    }
    for (const p of [env.page, ...pages]) {
      await p.waitForFunction(
        () => document.querySelector('#live-door-state')?.textContent === 'Live',
        null,
        { timeout: 20000 },
      );
    }
    for (const p of pages) await p.close();
  });

  it('the snapshot button shows a JPEG of the same camera', async () => {
    const { page } = env;
    await page.click('#snapshot');
    await page.waitForFunction(() => {
      const img = document.querySelector('#door-snapshot');
      return img && img.complete && img.naturalWidth > 0;
    });
    const size = await page.$eval('#door-snapshot', (i) => [i.naturalWidth, i.naturalHeight]);
    assert.deepEqual(size, [1280, 720]);
    assert.deepEqual(unexpectedErrors(env.errors), []);
  });
});
