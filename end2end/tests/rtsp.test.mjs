// RTSP out on the pages (issue 21): the main page shows the door camera's
// RTSP addresses to copy (the page's own host when vto listens on all
// addresses), and Network Setting > Basic shows the RTSP port in force.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startLoggedIn, hydrated, shot, unexpectedErrors } from '../lib/harness.mjs';
import { eventually, expectText, expectValue } from '../lib/wait.mjs';

describe('RTSP addresses', { timeout: 90000 }, () => {
  let env;
  let port;
  before(async () => {
    env = await startLoggedIn({ args: ['--rtsp', '0.0.0.0:0'] });
    port = await eventually('vto prints its RTSP address', () => {
      const m = env.vto.stdout().match(/vto rtsp on 0\.0\.0\.0:(\d+)/);
      return m && m[1];
    });
    await env.context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: env.url });
  });
  after(async () => {
    await env?.close();
  });

  it('the main page shows both streams at the page host, with Copy', async () => {
    const { page, url, errors } = env;
    await page.goto(url);
    await hydrated(page);
    const host = new URL(url).hostname;
    const main = `rtsp://${host}:${port}/cam/realmonitor?channel=1&subtype=0`;
    const sub = `rtsp://${host}:${port}/cam/realmonitor?channel=1&subtype=1`;
    await expectValue(page, '#rtsp-main', main);
    await expectValue(page, '#rtsp-sub', sub);
    assert.equal(await page.locator('label[for=rtsp-main]').textContent(), 'Main Stream');
    assert.equal(await page.locator('label[for=rtsp-sub]').textContent(), 'Sub Stream');
    await page.locator('#rtsp-sub + button', { hasText: 'Copy' }).click();
    await eventually('the sub stream address is on the clipboard', async () =>
      (await page.evaluate(() => navigator.clipboard.readText())) === sub,
    );
    await shot(page, 'main-rtsp');
    assert.deepEqual(unexpectedErrors(errors), []);
  });

  it('Network Setting > Basic shows the RTSP port in force', async () => {
    const { page, url } = env;
    await page.goto(`${url}/network/basic`);
    await hydrated(page);
    await expectText(page, '#rtsp-port', `${port} (on 0.0.0.0)`);
  });
});
