// Local Setting > Video & Audio: settings that take effect at once on the
// live preview (built-in camera: format, picture), bad input next to its
// field, and a real RTSP camera (GStreamer) as the door camera, including
// its viewers coming back by themselves after the camera restarts.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  startLoggedIn,
  hydrated,
  shot,
  unexpectedErrors,
  waitFieldError,
  startRtspCamera,
  waitDecoding,
  videoStats,
  audioPackets,
  waitAudio,
  CAMERA_USER,
  CAMERA_PASSWORD,
  TRACK_PEER_CONNECTIONS,
} from '../lib/harness.mjs';
import {
  eventually,
  expectAbsent,
  expectText,
  expectValue,
  expectVisible,
  settled,
} from '../lib/wait.mjs';

/**
 * How long the audio packet count must stay unchanged to count as "no
 * audio": the camera sends a packet every 20 ms, so 1.5 s without one is
 * 75 missing packets, far beyond any jitter.
 */
const NO_AUDIO_WINDOW_MS = 1500;

/** Saturation of the door camera's snapshot: the largest channel spread. */
async function snapshotColour(page) {
  return page.evaluate(async () => {
    const blob = await (await fetch('/snapshot/door.jpg', { cache: 'no-store' })).blob();
    const img = await createImageBitmap(blob);
    const c = new OffscreenCanvas(img.width, img.height);
    const g = c.getContext('2d');
    g.drawImage(img, 0, 0);
    // Below the time band at the top.
    const d = g.getImageData(0, Math.floor(img.height / 4), img.width, Math.floor(img.height / 2)).data;
    let spread = 0;
    for (let i = 0; i < d.length; i += 4 * 7) {
      spread = Math.max(spread, Math.max(d[i], d[i + 1], d[i + 2]) - Math.min(d[i], d[i + 1], d[i + 2]));
    }
    return { width: img.width, height: img.height, spread };
  });
}

async function waitBadge(page, prefix, timeout = 30000) {
  await page.waitForFunction(
    (p) => (document.querySelector('#live-door-state')?.textContent ?? '').startsWith(p),
    prefix,
    { timeout },
  );
}

async function confirm(page) {
  await page.click('#video-form button[type="submit"]');
  await page.waitForFunction(
    () => (document.querySelector('#video-form .form-message')?.textContent ?? '').includes('Saved'),
    null,
    { timeout: 10000 },
  );
}

describe('Video & Audio', { timeout: 180000 }, () => {
  let env;
  let camera;
  before(async () => {
    env = await startLoggedIn();
    await env.context.addInitScript(TRACK_PEER_CONNECTIONS);
  });
  after(async () => {
    await camera?.kill();
    await env?.close();
  });

  it('shows the manual\'s parameters and the live preview', async () => {
    const { page, url } = env;
    await page.goto(`${url}/`);
    await hydrated(page);
    await page.click('nav.sidenav a[href="/local/video"]');
    await page.waitForURL(`${url}/local/video`);
    await hydrated(page);
    for (const label of [
      'Camera',
      'Video Standard',
      'Video Format',
      'Frame Rate',
      'Bit Rate',
      'Scene Mode',
      'Day/Night Mode',
      'BackLight Mode',
      'Brightness',
      'Contrast',
      'Hue',
      'Saturation',
      'Gamma',
      'Gain',
      'Mirror',
      'Flip',
      'Audio Control: Enable',
      'Mic Volume',
      'Beep Volume',
    ]) {
      // The form renders once its values are loaded (a client-side navigation).
      await expectVisible(page, `label:text-is("${label}")`, { message: label });
    }
    for (const button of ['Default', 'Refresh', 'Confirm']) {
      await expectVisible(page, `#video-form button:text-is("${button}")`, { message: button });
    }
    await waitDecoding(page, 1280, 720);
    await waitAudio(page);
    await shot(page, 'video-audio');
  });

  it('audio can be turned off and on', async () => {
    const { page } = env;
    await page.uncheck('#audio-enable');
    await confirm(page);
    // No audio while disabled: the count stops rising (what was under way
    // may still arrive) and stays put for the whole window.
    await settled('no audio while disabled', () => audioPackets(page), NO_AUDIO_WINDOW_MS);
    await page.check('#audio-enable');
    await confirm(page);
    await waitAudio(page);
  });

  it('a new main stream format reaches the viewer without a reload', async () => {
    const { page } = env;
    // D1 follows the video standard: 704x576 under PAL.
    await expectText(page, '#main-format option[value="d1"]', 'D1 (704x576)');
    await page.selectOption('#main-format', 'wvga');
    await confirm(page);
    await waitDecoding(page, 800, 480);
    // The element follows the stream's new size (once on screen again:
    // Chromium pauses a muted video scrolled out of view).
    await page.locator('#live-door').scrollIntoViewIfNeeded();
    await page.waitForFunction(() => {
      const v = document.querySelector('#live-door');
      return v.videoWidth === 800 && v.videoHeight === 480;
    });
  });

  it('the picture settings change the picture', async () => {
    const { page } = env;
    await page.selectOption('#day-night-mode', 'color');
    await confirm(page);
    // The next pictures have it (a snapshot may still be the frame before).
    await eventually('colour bars in the snapshot', async () => {
      const colour = await snapshotColour(page);
      assert.deepEqual([colour.width, colour.height], [800, 480]);
      assert.ok(colour.spread > 100, `colour bars: ${colour.spread}`);
    });
    await page.selectOption('#day-night-mode', 'bw');
    await confirm(page);
    await eventually('a black and white snapshot', async () => {
      const grey = await snapshotColour(page);
      assert.ok(grey.spread < 20, `black and white: ${grey.spread}`);
    });
    // And back.
    await page.click('#video-default');
    await confirm(page);
    await waitDecoding(page, 1280, 720);
  });

  it('bad input is shown next to its field and changes nothing', async () => {
    const { page, url } = env;
    await page.selectOption('#camera-kind', 'rtsp');
    await page.fill('#camera-url', 'http://127.0.0.1/stream');
    assert.match(await waitFieldError(page, 'camera-url'), /rtsp:\/\//);
    await page.fill('#camera-url', 'rtsp://admin:pw@127.0.0.1/stream');
    assert.match(await waitFieldError(page, 'camera-url'), /own fields/);
    await page.click('#video-form button[type="submit"]');
    await page.goto(`${url}/local/video`);
    await hydrated(page);
    await expectValue(page, '#camera-kind', 'builtin');
  });

  it('an RTSP camera becomes the door camera, and comes back after a restart', async () => {
    const { page } = env;
    camera = await startRtspCamera();
    await page.selectOption('#camera-kind', 'rtsp');
    await page.fill('#camera-url', camera.url);
    await page.fill('#camera-user', CAMERA_USER);
    await page.fill('#camera-password', CAMERA_PASSWORD);
    await confirm(page);
    await expectValue(page, '#camera-password', '', { message: 'write-only' });
    await expectText(page, '#camera-password-state', /stored/);
    await waitDecoding(page, 640, 480);
    // The camera's PCMU comes through, and the page says what it is.
    await waitAudio(page);
    await page.waitForFunction(() =>
      (document.querySelector('#camera-audio')?.textContent ?? '').includes('G.711 μ-law'),
    );
    await page.waitForFunction(() =>
      (document.querySelector('#camera-controls')?.textContent ?? '').includes('640x480'),
    );
    // The camera's own settings are not offered as if they applied.
    await expectAbsent(page, '#brightness', '#camera-controls');
    await shot(page, 'video-audio-rtsp');

    const port = camera.port;
    await camera.kill();
    await waitBadge(page, 'Reconnecting');
    camera = await startRtspCamera(port);
    await waitBadge(page, 'Live');
    const before = (await videoStats(page)).at(-1).framesDecoded;
    await waitDecoding(page, 640, 480);
    const after = (await videoStats(page)).at(-1).framesDecoded;
    assert.ok(after > before, `${before} -> ${after}`);
    await expectText(page, '#live-door-state', /^Live/);
    assert.deepEqual(unexpectedErrors(env.errors), []);
  });
});
