// Power menu: reboot (vto re-executes itself in place and the page comes
// back by itself) and restore factory defaults (back to initialization).

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readlinkSync } from 'node:fs';
import {
  startLoggedIn,
  hydrated,
  initialize,
  login,
  shot,
  pathOf,
  expectPath,
  powerMenu,
  expectFieldError,
  waitFieldError,
  rawHtml,
  contrasts,
  unexpectedErrors,
  STRONG,
} from '../lib/harness.mjs';
import { eventually, expectAttribute, expectCount, expectVisible, textsOf } from '../lib/wait.mjs';

/** Until the locator's text matches `re`. */
const expectLocatorText = (locator, re, what) =>
  eventually(what, async () => assert.match(await locator.textContent({ timeout: 1000 }), re));

const listening = (out) => [...out.matchAll(/listening on (http:\/\/\S+)/g)].map((m) => m[1]);

describe('reboot and factory reset', { timeout: 120000 }, () => {
  let env;
  before(async () => {
    env = await startLoggedIn();
  });
  after(async () => {
    await env?.close();
  });

  it('asks before rebooting, and Cancel keeps everything', async () => {
    const { page } = env;
    await powerMenu(page, 'Reboot');
    const dialog = page.getByRole('dialog', { name: 'Reboot' });
    await expectLocatorText(dialog, /settings are kept/, 'the Reboot question');
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await dialog.waitFor({ state: 'detached' });
    // Cancel only closes the dialog in the page: nothing is sent to wait for.
    assert.equal(listening(env.vto.stdout()).length, 1, 'no reboot on Cancel');
  });

  it('shows every power menu item legibly', async () => {
    const { page } = env;
    await page.click('#power-menu');
    await page.getByRole('menu').waitFor();
    const items = await contrasts(page, '.menu-list [role=menuitem]');
    await shot(page, 'power-menu');
    await page.click('#power-menu');
    await page.getByRole('menu').waitFor({ state: 'detached' });
    assert.deepEqual(
      items.map((i) => i.text),
      ['Logout', 'Reboot', 'Restore Factory Defaults'],
    );
    // WCAG AA for normal text.
    const poor = items.filter((i) => i.ratio < 4.5);
    assert.deepEqual(poor, [], 'menu items whose text is hard or impossible to read');
  });

  it('reboots in place and the page comes back by itself', async () => {
    const { page, vto, url } = env;
    const pid = vto.proc.pid;
    const exe = readlinkSync(`/proc/${pid}/exe`);
    // Marks this document: a reload replaces it.
    await page.evaluate(() => (window.__beforeReboot = true));

    await powerMenu(page, 'Reboot');
    await page.getByRole('dialog', { name: 'Reboot' }).waitFor();
    await page.click('#reboot-confirm');
    const overlay = page.getByRole('status').filter({ hasText: 'Rebooting' });
    await overlay.waitFor();
    await shot(page, 'rebooting').catch((e) => {
      // The overlay can be gone (page reloaded) while the shot is taken.
      console.log(`# rebooting screenshot skipped: ${e.message.split('\n')[0]}`);
    });

    // The page polls the device and reloads when it has a new boot id.
    await page.waitForFunction(
      () => window.__beforeReboot === undefined && document.documentElement.dataset.hydrated === 'true',
      null,
      { timeout: 20000, polling: 200 },
    );
    await page.getByRole('heading', { name: 'VTO Information' }).waitFor({ timeout: 20000 });
    await expectPath(page, '/', 'still logged in after the reboot');
    await expectCount(page, '.dialog-backdrop', 0, { message: 'no overlay left' });

    // Same process, same binary, same port; it printed its start twice.
    assert.equal(vto.proc.exitCode, null, `vto exited:\n${vto.logs()}`);
    assert.equal(vto.proc.signalCode, null);
    assert.equal(vto.proc.pid, pid);
    assert.doesNotThrow(() => process.kill(pid, 0), 'the process is still there');
    assert.equal(readlinkSync(`/proc/${pid}/exe`), exe);
    assert.deepEqual(listening(vto.stdout()), [url, url]);
    assert.equal(new URL(page.url()).origin, url);
  });

  it('logged the reboot', async () => {
    const { page, url } = env;
    await page.goto(`${url}/log/security`);
    await eventually('the reboot logged', async () => {
      const events = await textsOf(page, '#security-log tbody tr td:nth-child(2)');
      assert.ok(events.includes('Reboot'), `events: ${events}`);
    });
  });

  it('needs the password to restore factory defaults', async () => {
    const { page } = env;
    await powerMenu(page, 'Restore Factory Defaults');
    const dialog = page.getByRole('dialog', { name: 'Restore Factory Defaults' });
    await expectLocatorText(dialog, /cannot be undone/, 'the Restore question');

    await page.click('#reset-confirm');
    assert.equal(await waitFieldError(page, 'reset-password'), 'Enter the current password');

    await page.fill('#reset-password', 'Wrong-Pass9');
    // Typing does not clear this error: wait for the new message.
    await page.click('#reset-confirm');
    await page.waitForFunction(() => /Incorrect password/.test(document.querySelector('#reset-password-error')?.textContent ?? ''));
    await expectFieldError(page, 'reset-password', /^\s*Incorrect password\. \d attempts? left/);
    await expectAttribute(page, '#reset-password', 'aria-invalid', 'true');
    await shot(page, 'reset-wrong-password');
    // Refused in the answer that showed the error.
    assert.equal(pathOf(page), '/log/security', 'nothing was reset');
  });

  it('restores factory defaults with the right password', async () => {
    const { page, url } = env;
    await page.fill('#reset-password', STRONG);
    await page.click('#reset-confirm');
    await page.waitForURL(`${url}/init`, { timeout: 15000 });
    await hydrated(page);
    await expectVisible(page, '#init-password');

    // The device is back to initialization: the old session is worthless.
    await page.goto(`${url}/`);
    await expectPath(page, '/init');
    const raw = await rawHtml(url, '/login');
    assert.equal(raw.location, '/init');

    // And can be initialized again.
    await initialize(page, url, STRONG);
    await login(page, url, STRONG);
    await page.getByRole('heading', { name: 'VTO Information' }).waitFor();
  });

  it('logged no unexpected console errors', () => {
    // 422: the wrong and the empty password in the reset dialog.
    assert.deepEqual(unexpectedErrors(env.errors, [422]), []);
  });
});
