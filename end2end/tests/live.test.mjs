// The main interface's live view: the door camera (the built-in test
// camera) over WebRTC. Chromium decodes frames at the camera's size, the
// count keeps rising, three viewers at once; the snapshot beside it.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  startLoggedIn,
  hydrated,
  shot,
  unexpectedErrors,
  videoStats,
  waitAudio,
  TRACK_PEER_CONNECTIONS,
} from '../lib/harness.mjs';
import { eventually } from '../lib/wait.mjs';

describe('Live view', { timeout: 90000 }, () => {
  let env;
  before(async () => {
    env = await startLoggedIn();
    await env.context.addInitScript(TRACK_PEER_CONNECTIONS);
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
    const first = await eventually(
      'frames decoded',
      async () => {
        const all = await videoStats(page);
        assert.ok(all[0]?.framesDecoded > 10, `stats: ${JSON.stringify(all)}`);
        return all[0];
      },
      { timeout: 20000, interval: 250 },
    );
    assert.equal(first.width, 1280);
    assert.equal(first.height, 720);
    // And it keeps decoding.
    await eventually(
      '10 more frames decoded',
      async () => {
        const later = (await videoStats(page))[0];
        assert.ok(later?.framesDecoded > first.framesDecoded + 10, `${first.framesDecoded} -> ${later?.framesDecoded}`);
      },
      { interval: 250 },
    );
    await eventually('the video element at 1280x720', async () =>
      assert.deepEqual(await page.$eval('#live-door', (v) => [v.videoWidth, v.videoHeight]), [1280, 720]),
    );
    // The test tone, as G.711 μ-law.
    await waitAudio(page);
    await page.click('#live-door-sound');
    await eventually('Sound on', async () =>
      assert.equal(await page.$eval('#live-door', (v) => v.muted), false),
    );
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

  it('a WHEP client plays the same camera (POST offer, DELETE to end)', async () => {
    const { page } = env;
    const result = await page.evaluate(async () => {
      const pc = new RTCPeerConnection();
      pc.addTransceiver('video', { direction: 'recvonly' });
      await pc.setLocalDescription(await pc.createOffer());
      // Until the candidates are gathered (loopback only: at once).
      await new Promise((resolve, reject) => {
        const done = () => pc.iceGatheringState === 'complete' && resolve();
        pc.addEventListener('icegatheringstatechange', done);
        done();
        setTimeout(() => reject(new Error(`ICE gathering ${pc.iceGatheringState} after 10 s`)), 10000);
      });
      const res = await fetch('/api/whep/door', {
        method: 'POST',
        headers: { 'content-type': 'application/sdp' },
        body: pc.localDescription.sdp,
      });
      const location = res.headers.get('location');
      await pc.setRemoteDescription({ type: 'answer', sdp: await res.text() });
      let decoded = 0;
      let size = null;
      for (let i = 0; i < 80 && decoded < 10; i++) {
        await new Promise((r) => setTimeout(r, 250));
        (await pc.getStats()).forEach((r) => {
          if (r.type === 'inbound-rtp' && r.kind === 'video') {
            decoded = r.framesDecoded ?? 0;
            size = [r.frameWidth, r.frameHeight];
          }
        });
      }
      const end = await fetch(location, { method: 'DELETE' });
      pc.close();
      return { status: res.status, location, decoded, size, ended: end.status };
    });
    assert.equal(result.status, 201);
    assert.match(result.location, /^\/api\/whep\/door\/[0-9a-f]+$/);
    assert.ok(result.decoded >= 10, JSON.stringify(result));
    assert.deepEqual(result.size, [1280, 720]);
    assert.equal(result.ended, 200);
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
