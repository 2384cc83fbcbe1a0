// Five wrong passwords lock the account for the source address; the login
// page says so, counts down and lets the user in again afterwards.
// vto runs with a 3 s lockout so the expiry can be waited for.

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
import { eventually, expectCount, expectEnabled, expectValue, textsOf } from '../lib/wait.mjs';

const LOCKOUT_SECS = 3;
const SUBMIT = '#login button[type=submit]';

describe('lockout after failed logins', { timeout: 90000 }, () => {
  let env;
  let lockedAt;
  before(async () => {
    env = await startAll({ args: ['--lockout-secs', String(LOCKOUT_SECS)] });
    await initialize(env.page, env.url);
    await env.page.goto(`${env.url}/login`);
    await hydrated(env.page);
  });
  after(async () => {
    await env?.close();
  });

  it('counts down the attempts left', async () => {
    const { page } = env;
    for (let i = 1; i <= 4; i++) {
      const left = 5 - i;
      const expected = `Incorrect user name or password. ${left} attempt${left === 1 ? '' : 's'} left before the account is locked for your address.`;
      // Wait for this attempt's message, not the previous one's.
      await page.fill('#password', `Wrong-Pass${i}x`);
      await page.click(SUBMIT);
      await page.waitForFunction(
        (t) => document.querySelector('#login .form-message.error')?.textContent.trim() === t,
        expected,
      );
      await expectValue(page, '#password', '', { message: 'the password field is emptied after a failure' });
      await expectEnabled(page, SUBMIT);
    }
    await expectPath(page, '/login');
  });

  it('locks the account on the 5th failure', async () => {
    const { page } = env;
    await page.fill('#password', 'Wrong-Pass5x');
    await page.click(SUBMIT);
    const msg = page.locator('#login .form-message.error', { hasText: 'Try again in' });
    await msg.waitFor();
    lockedAt = Date.now();
    const text = (await msg.textContent()).trim();
    assert.match(
      text,
      /^Too many failed attempts: this account is locked for your address\. Try again in [1-3] s\.$/,
    );
    await expectEnabled(page, SUBMIT, false, { message: 'Login is disabled while locked' });
    // Only the lock message (shown above): not also an "attempts left" one.
    assert.equal(await page.locator('#login .form-message').count(), 1);
    await shot(page, 'lockout');
  });

  it('counts the lock down in the page and re-enables Login', async () => {
    const { page } = env;
    await page.waitForFunction(
      () => /Try again in 1 s\./.test(document.querySelector('#login')?.textContent ?? ''),
      null,
      { timeout: 5000 },
    );
    assert.equal(await page.isDisabled(SUBMIT), true);
    await page.waitForFunction(
      () => document.querySelector('#login button[type=submit]')?.disabled === false,
      null,
      { timeout: 5000 },
    );
    const after = Date.now() - lockedAt;
    assert.ok(after >= (LOCKOUT_SECS - 1) * 1000, `Login came back after ${after} ms only`);
    await expectCount(page, '#login .form-message:has-text("locked")', 0);
  });

  it('lets the right password in once the lock has expired', async () => {
    const { page, url } = env;
    // The page counts the device's Retry-After down from when its answer
    // arrived, so Login enabled again means the device's lock is over too.
    // (Trying earlier would add a "refused while locked" record to the
    // security log that the next test counts.)
    await expectEnabled(page, SUBMIT);
    await page.fill('#password', STRONG);
    await page.click(SUBMIT);
    await page.waitForURL(`${url}/`);
    await hydrated(page);
    await page.getByRole('heading', { name: 'VTO Information' }).waitFor();
  });

  it('logged the failures and the lockout', async () => {
    const { page, url } = env;
    await page.goto(`${url}/log/security`);
    await eventually('the failures, the lock and the login logged', async () => {
      const events = await textsOf(page, '#security-log tbody tr td:nth-child(2)');
      assert.equal(events.filter((e) => e === 'Login failed').length, 5, `events: ${events}`);
      assert.ok(events.includes('Account locked for this address'), `events: ${events}`);
      assert.equal(events[0], 'Login', `newest first: ${events}`);
    });
    const warn = await page.locator('#security-log tbody tr.warn').count();
    assert.equal(warn, 6, 'failures and the lock are highlighted');
  });

  it('logged no unexpected console errors', () => {
    assert.deepEqual(unexpectedErrors(env.errors, [401, 429]), []);
  });
});
