// The main interface's Door Camera: Snapshot shows the built-in camera's
// picture (a JPEG made by the device) at its full size.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startLoggedIn, shot, unexpectedErrors } from '../lib/harness.mjs';

describe('Door camera snapshot', { timeout: 60000 }, () => {
  let env;
  before(async () => {
    env = await startLoggedIn();
  });
  after(async () => {
    await env?.close();
  });

  it('Snapshot shows the camera picture', async () => {
    const { page } = env;
    await page.click('#snapshot');
    await page.waitForFunction(() => {
      const img = document.querySelector('#door-snapshot');
      return img && img.complete && img.naturalWidth > 0;
    });
    const size = await page.$eval('#door-snapshot', (i) => [i.naturalWidth, i.naturalHeight]);
    assert.deepEqual(size, [1280, 720]);
    const first = await page.$eval('#door-snapshot', (i) => i.src);
    await page.click('#snapshot');
    await page.waitForFunction(
      (src) => {
        const img = document.querySelector('#door-snapshot');
        return img.src !== src && img.complete && img.naturalWidth > 0;
      },
      first,
    );
    await shot(page, 'main-snapshot');
    assert.deepEqual(unexpectedErrors(env.errors), []);
  });
});
