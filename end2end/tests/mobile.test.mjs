// A phone-sized viewport: the pages fit the width, no horizontal scrolling.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  startAll,
  hydrated,
  initialize,
  shot,
  expectPath,
  unexpectedErrors,
  STRONG,
} from '../lib/harness.mjs';

const PHONE = { width: 390, height: 844 };

/** Page width against the viewport, and the elements that stick out on the right. */
function overflow(page) {
  return page.evaluate(() => ({
    scrollWidth: document.documentElement.scrollWidth,
    innerWidth: window.innerWidth,
    wide: [...document.querySelectorAll('body *')]
      .filter((el) => el.getBoundingClientRect().right > window.innerWidth + 0.5)
      .slice(0, 5)
      .map((el) => `${el.tagName.toLowerCase()}${el.id ? `#${el.id}` : ''}.${[...el.classList].join('.')}`),
  }));
}

async function assertFits(page, what) {
  const o = await overflow(page);
  assert.equal(o.innerWidth, PHONE.width);
  assert.ok(
    o.scrollWidth <= o.innerWidth,
    `${what}: scrollWidth ${o.scrollWidth} > innerWidth ${o.innerWidth}; too wide: ${o.wide.join(', ')}`,
  );
}

describe('phone viewport', { timeout: 90000 }, () => {
  let env;
  before(async () => {
    env = await startAll({ viewport: PHONE });
  });
  after(async () => {
    await env?.close();
  });

  it('initialization page fits', async () => {
    const { page, url } = env;
    await page.goto(`${url}/init`);
    await hydrated(page);
    await page.fill('#password', 'abc123');
    await page.waitForFunction(() => document.querySelector('#password-error').textContent.trim() !== '');
    await assertFits(page, '/init');
    await shot(page, 'mobile-init');
    await initialize(page, url);
  });

  it('login page fits', async () => {
    const { page, url } = env;
    await page.goto(`${url}/login`);
    await hydrated(page);
    await assertFits(page, '/login');
    await shot(page, 'mobile-login');
  });

  it('main page fits', async () => {
    const { page, url } = env;
    await page.fill('#password', STRONG);
    await page.click('#login button[type=submit]');
    await page.waitForURL(`${url}/`);
    await hydrated(page);
    await page.getByRole('heading', { name: 'VTO Information' }).waitFor();
    // Measured once the door panel (loaded after the page) is there too.
    await page.waitForSelector('#unlock');
    await expectPath(page, '/');
    await assertFits(page, '/');
    await shot(page, 'mobile-main');

    // The power menu opens inside the screen too.
    await page.click('#power-menu');
    await page.getByRole('menu').waitFor();
    const box = await page.getByRole('menu').boundingBox();
    assert.ok(box.x >= 0 && box.x + box.width <= PHONE.width, `menu at ${JSON.stringify(box)}`);
    await assertFits(page, '/ with the power menu open');
    await shot(page, 'mobile-power-menu');
    await page.click('#power-menu');
  });

  it('account and security log pages fit', async () => {
    const { page, url } = env;
    await page.goto(`${url}/account`);
    await hydrated(page);
    await page.waitForSelector('#current-email');
    await assertFits(page, '/account');
    await shot(page, 'mobile-account');
    await page.goto(`${url}/log/security`);
    await hydrated(page);
    await page.waitForSelector('#security-log tbody tr');
    await assertFits(page, '/log/security');
    await shot(page, 'mobile-security-log');
  });

  it('logged no unexpected console errors', () => {
    assert.deepEqual(unexpectedErrors(env.errors), []);
  });
});
