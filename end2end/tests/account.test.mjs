// Account page (manual ch. 3, item 1): change the password and the reset
// email; both need the current password.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  startLoggedIn,
  hydrated,
  login,
  shot,
  expectPath,
  powerMenu,
  expectFieldError,
  waitFieldError,
  unexpectedErrors,
  STRONG,
  STRONG2,
} from '../lib/harness.mjs';
import {
  eventually,
  expectAttribute,
  expectChecked,
  expectText,
  expectValue,
  textsOf,
} from '../lib/wait.mjs';

const CONFIRM_PASSWORD = '#password-form button[type=submit]';
const CONFIRM_EMAIL = '#email-form button[type=submit]';

describe('account: password and email', { timeout: 90000 }, () => {
  let env;
  before(async () => {
    env = await startLoggedIn();
  });
  after(async () => {
    await env?.close();
  });

  it('opens from the header', async () => {
    const { page, url } = env;
    await page.locator('header.topbar a', { hasText: 'Account' }).click();
    await page.waitForURL(`${url}/account`);
    await page.waitForSelector('#old-password');
    await expectText(page, '#current-email', /No email address is set/);
    await shot(page, 'account');
  });

  it('refuses a wrong old password next to its field', async () => {
    const { page } = env;
    await page.fill('#old-password', 'Wrong-Pass9');
    await page.fill('#new-password', STRONG2);
    await page.fill('#confirm-password', STRONG2);
    await page.click(CONFIRM_PASSWORD);
    const err = await waitFieldError(page, 'old-password');
    assert.match(err, /Incorrect password/);
    assert.match(err, /attempts? left/);
    await expectAttribute(page, '#old-password', 'aria-invalid', 'true');
    // Shown with the error above, in the same answer.
    assert.equal(await page.locator('#password-form .form-message.ok').count(), 0);
    await shot(page, 'account-wrong-old-password');

    // Typing again clears the server's error.
    await page.fill('#old-password', 'Wrong-Pass');
    await page.waitForFunction(() => document.querySelector('#old-password-error').textContent.trim() === '');
  });

  it('shows the broken rule of a weak new password', async () => {
    const { page } = env;
    await page.fill('#new-password', 'door1');
    assert.equal(await waitFieldError(page, 'new-password'), 'At least 8 characters');
    await page.fill('#new-password', 'nimda-Door7');
    assert.match(await waitFieldError(page, 'new-password'), /user name in reverse/);
    await page.fill('#confirm-password', 'nimda-Door7');
    await page.fill('#old-password', STRONG);
    await page.click(CONFIRM_PASSWORD);
    // Still refused (in the page, before any request): nothing changed.
    await expectFieldError(page, 'new-password', /user name in reverse/);
    assert.equal(await page.locator('#password-form .form-message.ok').count(), 0);
  });

  it('changes the password and ends the other sessions', async () => {
    const { page, browser, url } = env;
    // A second browser logged in as admin at the same time.
    const other = await browser.newContext();
    try {
      const page2 = await other.newPage();
      await login(page2, url, STRONG);
      await expectPath(page2, '/');

      await changePassword(page);

      await page2.goto(`${url}/`);
      await expectPath(page2, '/login', 'the other session ended');
    } finally {
      await other.close();
    }
    // This session stays.
    await page.goto(`${url}/account`);
    await expectPath(page, '/account');
    await hydrated(page);
  });

  async function changePassword(page) {
    await page.fill('#old-password', STRONG);
    await page.fill('#new-password', STRONG2);
    await page.fill('#confirm-password', `${STRONG2}x`);
    assert.equal(await waitFieldError(page, 'confirm-password'), 'The passwords do not match');
    await page.fill('#confirm-password', STRONG2);
    await page.click(CONFIRM_PASSWORD);
    await expectText(page, '#password-form .form-message.ok', /Password changed/);
    // The form is emptied.
    await expectValue(page, '#old-password', '');
    await expectValue(page, '#new-password', '');
    await expectValue(page, '#confirm-password', '');
    await shot(page, 'account-password-changed');
  }

  it('logs in with the new password only', async () => {
    const { page, url } = env;
    await powerMenu(page, 'Logout');
    await page.waitForURL(`${url}/login`);
    await hydrated(page);

    await page.fill('#password', STRONG);
    await page.click('#login button[type=submit]');
    await expectText(page, '#login .form-message.error', /Incorrect user name or password/);
    await expectPath(page, '/login');

    await login(page, url, STRONG2);
    await expectPath(page, '/');
  });

  it('changes the email only with the right password', async () => {
    const { page, url } = env;
    await page.goto(`${url}/account`);
    await hydrated(page);
    await page.waitForSelector('#email-form');
    await page.check('#use-email');
    await page.waitForSelector('#email');
    await page.fill('#email', 'not-an-address');
    assert.match(await waitFieldError(page, 'email'), /name@example\.com/);
    await page.fill('#email', 'door@example.org');
    await page.waitForFunction(() => document.querySelector('#email-error').textContent.trim() === '');

    await page.fill('#email-password', STRONG); // the old one
    await page.click(CONFIRM_EMAIL);
    assert.match(await waitFieldError(page, 'email-password'), /Incorrect password/);
    // Refused in the same answer that shows the error.
    assert.match(await page.textContent('#current-email'), /No email address is set/);

    await page.fill('#email-password', STRONG2);
    await page.click(CONFIRM_EMAIL);
    await expectText(page, '#current-email', 'Password reset codes go to door@example.org.');
    await expectText(page, '#email-form .form-message.ok', /Email address saved/);
    await expectValue(page, '#email-password', '');

    // Stored on the device, not only in the page.
    await page.reload();
    await hydrated(page);
    await expectText(page, '#current-email', /door@example\.org/);
    await expectChecked(page, '#use-email');
    await expectValue(page, '#email', 'door@example.org');
  });

  it('logged the account events', async () => {
    const { page, url } = env;
    await page.goto(`${url}/log/security`);
    await eventually('the account events in the security log', async () => {
      const events = await textsOf(page, '#security-log tbody tr td:nth-child(2)');
      for (const e of ['Password changed', 'Email changed', 'Login failed', 'Logout']) {
        assert.ok(events.includes(e), `${e} in ${events}`);
      }
    });
  });

  it('logged no unexpected console errors', () => {
    // 401: the failed login; 422: the wrong current passwords.
    assert.deepEqual(unexpectedErrors(env.errors, [401, 422]), []);
  });
});
