// Mail settings, Local Setting > Security and the whole "Forgot Password?"
// flow (manual ch. 2.2) in the browser, with mail going to a real SMTP
// server (aiosmtpd) on loopback.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  startAll,
  initialize,
  login,
  hydrated,
  shot,
  expectPath,
  powerMenu,
  waitFieldError,
  startSmtpSink,
  securityCode,
  unexpectedErrors,
  STRONG,
  STRONG2,
} from '../lib/harness.mjs';
import { expectChecked, expectText } from '../lib/wait.mjs';

describe('password reset by emailed security code', { timeout: 120000 }, () => {
  let env;
  let sink;
  before(async () => {
    sink = await startSmtpSink();
    env = await startAll();
    await initialize(env.page, env.url, STRONG, 'owner@example.com');
    await login(env.page, env.url);
  });
  after(async () => {
    await env?.close();
    await sink?.stop();
  });

  it('Network Setting > Email: validates, saves and sends a test mail', async () => {
    const { page, url } = env;
    await page.getByRole('link', { name: 'Email', exact: true }).click();
    await page.waitForURL(`${url}/network/email`);
    await page.waitForSelector('#smtp-server');
    await expectText(page, '#mail-mode', /outbox/);
    await page.fill('#smtp-server', 'bad host!');
    assert.match(await waitFieldError(page, 'smtp-server'), /host name/);
    await page.fill('#smtp-server', '127.0.0.1');
    // A server needs a sender: said next to the field as soon as it is missing.
    assert.match(await waitFieldError(page, 'sender'), /email address/i);
    await page.selectOption('#smtp-security', 'none');
    await page.fill('#smtp-port', String(sink.port));
    await page.fill('#sender', 'door@example.com');
    await page.click('#mail-form button[type=submit]');
    await page.waitForSelector('#mail-form .form-message.ok');
    await page.click('#mail-test');
    await page.waitForFunction(() =>
      [...document.querySelectorAll('#mail-form .form-message')].some((e) => /Test mail sent/.test(e.textContent)),
    );
    await expectText(page, '#mail-form', /250 OK queued as test-0001/);
    const mails = await sink.waitFor(1);
    assert.match(mails[0], /Subject: VTO test mail/);
    await shot(page, 'mail-settings');

    // A stored password never follows a changed server: said under the
    // field, and next to it when saved anyway.
    await page.fill('#smtp-password', 'Smtp-Secret-1');
    await page.click('#mail-form button[type=submit]');
    await expectText(
      page,
      '#smtp-password-state',
      'A password is stored. Leave empty to keep it, unless you change the SMTP Server, Port or Security.',
    );
    await page.fill('#smtp-port', String(sink.port + 1));
    await page.click('#mail-form button[type=submit]');
    assert.match(await waitFieldError(page, 'smtp-password'), /server changed: enter the Password again/);
    await shot(page, 'mail-password-moved');
    await page.fill('#smtp-port', String(sink.port));
    await page.check('#smtp-clear-password');
    await page.click('#mail-form button[type=submit]');
    await expectText(page, '#smtp-password-state', 'No password stored.');

    // Refresh reloads what the device has.
    await page.fill('#sender', 'changed@example.com');
    await page.click('#mail-refresh');
    await page.waitForFunction(() => document.querySelector('#sender').value === 'door@example.com');
  });

  it('Local Setting > Security shows Reset Password on', async () => {
    const { page, url } = env;
    await page.click('nav.sidenav a[href="/local/security"]');
    await page.waitForURL(`${url}/local/security`);
    await expectChecked(page, '#reset-password');
    await expectText(page, 'label[for=reset-password]', 'Reset Password');
    await shot(page, 'local-security');
  });

  it('forgot password: code by mail, wrong code refused, new password set', async () => {
    const { page, url } = env;
    await powerMenu(page, 'Logout');
    await page.waitForURL(`${url}/login`);
    await hydrated(page);
    await page.click('#forgot-password');
    await page.waitForURL(`${url}/reset`);
    await hydrated(page);
    await expectText(page, 'h1', /Reset the password \(1\/3\)/);
    await expectText(page, 'main', /o\*\*\*r@e\*\*\*\.com/);
    await shot(page, 'reset-1');

    await page.click('#reset-next');
    await page.waitForSelector('#reset-qr svg');
    await expectText(page, 'h1', /\(2\/3\)/);
    await expectText(page, '#code-sent', /valid until/);
    const mails = await sink.waitFor(2);
    const code = securityCode(mails[1]);
    assert.match(mails[1], new RegExp(`${url}/reset\\?step=2`));
    await shot(page, 'reset-2');

    await page.fill('#code', 'XXXX-XXXX-XX');
    await page.click('#reset-code button[type=submit]');
    assert.match(await waitFieldError(page, 'code'), /Wrong security code\. 4 attempts left/);
    await shot(page, 'reset-2-wrong-code');

    await page.fill('#code', code.toLowerCase());
    await page.click('#reset-code button[type=submit]');
    await page.waitForSelector('#new-password');
    await expectText(page, 'h1', /\(3\/3\)/);
    await page.fill('#new-password', 'abc');
    assert.match(await waitFieldError(page, 'new-password'), /./);
    await page.fill('#new-password', STRONG2);
    await page.fill('#confirm-password', STRONG2);
    await shot(page, 'reset-3');
    await page.click('#reset-password button[type=submit]');
    await page.waitForSelector('#reset-done');
    await page.click('#reset-ok');
    await page.waitForURL(`${url}/login`);

    await login(page, url, STRONG2);
    await expectPath(page, '/');
    // Only the expected refusal (422 for the wrong code) reached the console.
    assert.deepEqual(unexpectedErrors(env.errors, [422]), []);
  });

  it('the QR code page works on its own (a phone) and a used code fails', async () => {
    const { page, url } = env;
    const mails = sink.mails();
    const used = securityCode(mails[mails.length - 1]);
    const phone = await env.browser.newPage({ viewport: { width: 390, height: 780 } });
    try {
      await phone.goto(`${url}/reset?step=2`);
      await hydrated(phone);
      await expectText(phone, 'h1', /\(2\/3\)/);
      await phone.fill('#code', used);
      await phone.click('#reset-code button[type=submit]');
      assert.match(await waitFieldError(phone, 'code'), /no valid security code/i);
      await shot(phone, 'reset-phone');
    } finally {
      await phone.close();
    }
    assert.ok(page);
  });

  it('with Reset Password off, the login page says how to recover', async () => {
    const { page, url } = env;
    await page.goto(`${url}/local/security`);
    await hydrated(page);
    await page.uncheck('#reset-password');
    await page.click('#security-form button[type=submit]');
    await page.waitForSelector('#security-form .form-message.ok');
    await powerMenu(page, 'Logout');
    await page.waitForURL(`${url}/login`);
    await hydrated(page);
    await page.waitForSelector('#no-reset');
    // In its place (shown above).
    assert.equal(await page.locator('#forgot-password').count(), 0);
    await expectText(page, '#no-reset', /factory defaults/);
    await shot(page, 'login-no-reset');
    await page.goto(`${url}/reset`);
    await page.waitForSelector('#reset-unavailable');
  });
});
