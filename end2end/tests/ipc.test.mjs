// Household Setting > IPC Setting and the Monitor page: a real RTSP camera
// (GStreamer) added as an IPC with its Dahua address, shown in the list,
// Export Config (no password) and a bad Import Config that changes nothing,
// then watched on the Monitor page (sub stream by default, Main on request,
// Fullscreen), and deleted; then an ONVIF camera (recorded answers of a real
// camera) added with Protocol Onvif and watched.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  startLoggedIn,
  hydrated,
  shot,
  unexpectedErrors,
  waitFieldError,
  startRtspCamera,
  startOnvifCamera,
  CAMERA_USER,
  CAMERA_PASSWORD,
  TRACK_PEER_CONNECTIONS,
} from '../lib/harness.mjs';
import { eventually, expectAttribute, expectText, expectValue, expectVisible } from '../lib/wait.mjs';

const MESSAGE = 'section[aria-labelledby="ipc-list-title"] .form-message';

/** Until the tile's video element plays frames at `width`. */
async function tilePlays(page, source, width) {
  await page.waitForFunction(
    ([s, w]) => {
      const v = document.querySelector(`#live-${s}`);
      return v && v.videoWidth === w && v.currentTime > 0.5;
    },
    [source, width],
    { timeout: 30000 },
  );
}

describe('IPC Setting and Monitor', { timeout: 180000 }, () => {
  let env;
  let camera;
  let onvif;
  let id;
  const dir = mkdtempSync(join(tmpdir(), 'vto-ipc-'));
  before(async () => {
    camera = await startRtspCamera();
    onvif = await startOnvifCamera(camera.port);
    env = await startLoggedIn();
    await env.context.addInitScript(TRACK_PEER_CONNECTIONS);
  });
  after(async () => {
    await onvif?.kill();
    await camera?.kill();
    await env?.close();
  });

  it('adds a camera, with bad input shown next to its field', async () => {
    const { page, url } = env;
    await page.goto(`${url}/`);
    await hydrated(page);
    await page.click('nav.sidenav a[href="/household/ipc"]');
    await page.waitForURL(`${url}/household/ipc`);
    await hydrated(page);
    await expectText(page, '#ipc-empty', /No devices/);
    await expectText(page, '#ipc-count', '0 / 32');
    await page.click('#ipc-add');
    for (const label of ['IPC Name', 'IP Addr.', 'Username', 'Password', 'Port No.', 'Protocol', 'Stream', 'Channel', 'Device Type']) {
      await expectVisible(page, `#ipc-form label:text-is("${label}")`, { message: label });
    }
    await page.fill('#ipc-name', 'Gate');
    await page.fill('#ipc-ip', 'gate.local');
    await page.click('#ipc-form button[type=submit]');
    assert.match(await waitFieldError(page, 'ipc-ip'), /IP address/);
    await page.fill('#ipc-ip', '127.0.0.1');
    await page.fill('#ipc-user', CAMERA_USER);
    await page.fill('#ipc-password', CAMERA_PASSWORD);
    await page.fill('#ipc-port', String(camera.port));
    await shot(page, 'ipc-add');
    await page.click('#ipc-form button[type=submit]');
    await page.waitForSelector('#ipc-table tbody tr');
    id = await page.getAttribute('#ipc-table tbody tr', 'data-id');
    await expectText(page, MESSAGE, /Saved: Gate/);
    await expectText(page, '#ipc-count', '1 / 32');
  });

  it('exports the list without passwords; a bad import changes nothing', async () => {
    const { page } = env;
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#ipc-export')]);
    assert.equal(download.suggestedFilename(), 'ipc-config.json');
    const path = join(dir, 'ipc.json');
    await download.saveAs(path);
    const text = readFileSync(path, 'utf8');
    assert.ok(!text.includes(CAMERA_PASSWORD) && !text.includes('password'));
    const file = JSON.parse(text);
    assert.equal(file.ipcs[0].name, 'Gate');
    const bad = { ...file, ipcs: [{ ...file.ipcs[0], ip: '999.1.1.1' }] };
    writeFileSync(join(dir, 'bad.json'), JSON.stringify(bad));
    await page.setInputFiles('#ipc-import-file', join(dir, 'bad.json'));
    await page.click('#ipc-import-form button[type=submit]');
    await page.waitForFunction(() =>
      /Not imported/.test(document.querySelector('section[aria-labelledby="ipc-list-title"] .form-message')?.textContent ?? ''),
    );
    await expectText(page, MESSAGE, /nothing changed\. Device 1 \(Gate\): Enter an IP address/);
    await expectAttribute(page, '#ipc-table tbody tr', 'data-id', id);
    await shot(page, 'ipc-list');
  });

  it('the Monitor page plays the door camera and the IPC', async () => {
    const { page, url } = env;
    await page.click('nav.sidenav a[href="/monitor"]');
    await page.waitForURL(`${url}/monitor`);
    await hydrated(page);
    await expectText(page, '#monitor', /Door Camera[\s\S]*Gate/);
    // Sub streams by default: the built-in camera's CIF, the camera's 640x480.
    await tilePlays(page, 'door-sub', 352);
    await tilePlays(page, `ipc-${id}-sub`, 640);
    await page.selectOption('#stream-door', 'main');
    await tilePlays(page, 'door', 1280);
    await shot(page, 'monitor');
    // Snapshot: a JPEG of the camera's picture, in a new tab.
    const [tab] = await Promise.all([
      page.context().waitForEvent('page'),
      page.click(`#snapshot-ipc-${id}`),
    ]);
    await tab.waitForLoadState();
    assert.ok(tab.url().endsWith(`/snapshot/ipc-${id}.jpg`), tab.url());
    await eventually('the snapshot shown at 640x480', async () => {
      const size = await tab.evaluate(() => {
        const img = document.querySelector('img');
        return img ? [img.naturalWidth, img.naturalHeight] : null;
      });
      assert.deepEqual(size, [640, 480]);
    });
    await tab.close();
    await page.click(`#fullscreen-ipc-${id}`);
    await page.waitForFunction((s) => document.fullscreenElement?.dataset.source === s, `ipc-${id}`);
    await page.evaluate(() => document.exitFullscreen());
  });

  it('deletes the camera', async () => {
    const { page, url } = env;
    await page.goto(`${url}/household/ipc`);
    await hydrated(page);
    await page.click('#ipc-table tbody tr button:text-is("Delete")');
    await expectText(page, '#ipc-delete-question', /Delete Gate\?/);
    await page.click('#ipc-delete-confirm');
    await page.waitForSelector('#ipc-empty');
  });

  it('adds an ONVIF camera: the port follows the protocol, the stream plays', async () => {
    const { page, url } = env;
    await page.click('#ipc-add');
    await page.fill('#ipc-name', 'Porch');
    await page.fill('#ipc-ip', '127.0.0.1');
    await page.fill('#ipc-user', CAMERA_USER);
    await page.fill('#ipc-password', CAMERA_PASSWORD);
    await expectValue(page, '#ipc-port', '554');
    await page.selectOption('#ipc-protocol', 'onvif');
    await expectValue(page, '#ipc-port', '80', { message: 'HTTP port for ONVIF' });
    await page.selectOption('#ipc-protocol', 'local');
    await expectValue(page, '#ipc-port', '554');
    await page.selectOption('#ipc-protocol', 'onvif');
    await page.fill('#ipc-port', String(onvif.port));
    await shot(page, 'ipc-onvif');
    await page.click('#ipc-form button[type=submit]');
    await page.waitForSelector('#ipc-table tbody tr');
    const porch = await page.getAttribute('#ipc-table tbody tr', 'data-id');
    await expectText(page, '#ipc-table tbody tr', /Onvif/);
    await page.goto(`${url}/monitor`);
    await hydrated(page);
    await tilePlays(page, `ipc-${porch}-sub`, 640);
    // The refused import answered 422 on purpose.
    assert.deepEqual(unexpectedErrors(env.errors, [422]), []);
  });
});
