// Network Setting > IP Permissions (manual 6.3) in the browser: add and
// delete entries, an invalid entry is refused next to its field, a white
// list without the browser's own address is refused, a black list shuts
// out another loopback address.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startLoggedIn, hydrated, shot, waitFieldError, unexpectedErrors } from '../lib/harness.mjs';
import { eventually, expectCount } from '../lib/wait.mjs';
import http from 'node:http';

/** Whether a request from `localAddress` on a new connection gets a page. */
function reaches(url, localAddress) {
  return new Promise((resolve) => {
    const req = http.get(`${url}/login`, { localAddress, agent: false }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('error', () => resolve(false));
    req.setTimeout(3000, () => {
      req.destroy();
      resolve(false);
    });
  });
}

describe('Network Setting > IP Permissions', { timeout: 90000 }, () => {
  let env;
  before(async () => {
    env = await startLoggedIn();
  });
  after(async () => {
    await env?.close();
  });

  it('refuses a bad entry and a white list that would shut the browser out', async () => {
    const { page, url } = env;
    await page.click('nav.sidenav a[href="/network/ip-permissions"]');
    await page.waitForURL(`${url}/network/ip-permissions`);
    await page.waitForSelector('#ip-entry');
    await page.fill('#ip-entry', '192.168.1.300');
    await page.click('#ip-add');
    assert.match(await waitFieldError(page, 'ip-entry'), /Not an IP address/);
    await page.fill('#ip-entry', '127.0.0.2');
    await page.click('#ip-add');
    await page.waitForSelector('#ip-list li .mono');
    await page.check('#ip-enable');
    await page.click('#ip-form button[type=submit]');
    assert.match(await waitFieldError(page, 'ip-list'), /your own address 127\.0\.0\.1/);
    await shot(page, 'ip-permissions-refused');
    // Nothing saved: Refresh shows the list empty and off again.
    await page.click('#ip-refresh');
    await page.waitForFunction(() => !document.querySelector('#ip-enable').checked);
    await expectCount(page, '#ip-list li .mono', 0);
    assert.ok(await reaches(url, '127.0.0.2'));
  });

  it('a black list shuts out its address at once', async () => {
    const { page, url } = env;
    await page.selectOption('#list-type', 'black');
    await page.fill('#ip-entry', '127.0.0.2-127.0.0.3');
    await page.click('#ip-add');
    await page.fill('#ip-entry', '10.0.0.0/8');
    await page.click('#ip-add');
    await page.locator('#ip-list li', { hasText: '10.0.0.0/8' }).getByRole('button', { name: 'Delete' }).click();
    await page.check('#ip-enable');
    await page.click('#ip-form button[type=submit]');
    await page.waitForSelector('#ip-form .form-message.ok');
    await shot(page, 'ip-permissions');
    // In force once the answer is there: one connection each, no retries.
    assert.equal(await reaches(url, '127.0.0.2'), false);
    assert.equal(await reaches(url, '127.0.0.4'), true);
    await page.goto(`${url}/network/ip-permissions`);
    await hydrated(page);
    await eventually('the saved list', async () =>
      assert.deepEqual(await page.$$eval('#ip-list li .mono', (l) => l.map((e) => e.textContent)), ['127.0.0.2-127.0.0.3']),
    );
    assert.deepEqual(unexpectedErrors(env.errors, [422]), []);
  });
});
