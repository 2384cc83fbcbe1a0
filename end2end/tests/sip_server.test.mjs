// Network Setting > SIP Server: this VTO is the SIP server by default; not
// enabled, it registers to another server (Kamailio on loopback) and the
// page shows the registration turning Registered by itself; a missing IP
// Addr. is an error next to the field; Enable again makes it the server.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  startLoggedIn,
  hydrated,
  shot,
  unexpectedErrors,
  waitFieldError,
  startKamailio,
  KAMAILIO_PASSWORD,
} from '../lib/harness.mjs';
import {
  expectAbsent,
  expectAttribute,
  expectChecked,
  expectText,
  expectValue,
  expectVisible,
} from '../lib/wait.mjs';

describe('SIP Server', { timeout: 120000 }, () => {
  let env;
  let kamailio;
  before(async () => {
    env = await startLoggedIn();
    kamailio = await startKamailio(60);
  });
  after(async () => {
    await env?.close();
    await kamailio?.stop();
  });

  it('registers to another server and becomes the server again', async () => {
    const { page, url } = env;
    await page.click('nav.sidenav a[href="/network/sip-server"]');
    await page.waitForURL(`${url}/network/sip-server`);
    await hydrated(page);
    // The form renders once its values are loaded (a client-side navigation).
    await expectChecked(page, '#sip-enable');
    await expectText(page, '#sip-registration', /this VTO is the SIP server/);
    await expectAbsent(page, '#sip-ip', '#sip-registration');
    await page.uncheck('#sip-enable');
    for (const label of ['Server Type', 'IP Addr.', 'Port', 'Username', 'Password', 'SIP Domain']) {
      await expectVisible(page, `#sip-form label:text-is("${label}")`, { message: label });
    }
    // Server Type VTO: the Username is this VTO's VTO No.
    await expectValue(page, '#sip-username', '8001');
    await expectAttribute(page, '#sip-username', 'readonly', '');
    await page.click('#sip-form button[type="submit"]');
    assert.match(await waitFieldError(page, 'sip-ip'), /IP address/);
    await page.selectOption('#sip-server-type', 'other');
    await page.fill('#sip-ip', '127.0.0.1');
    await page.fill('#sip-port', String(kamailio.port));
    await page.fill('#sip-username', '8001');
    await page.fill('#sip-password', KAMAILIO_PASSWORD);
    await expectValue(page, '#sip-domain', 'VDP');
    await page.click('#sip-form button[type="submit"]');
    await page.waitForSelector('#sip-form .form-message:has-text("registers to the server")');
    // No click: the page asks again every 5 s.
    await page.waitForFunction(
      () => /^Registered/.test(document.querySelector('#sip-registration')?.textContent ?? ''),
      null,
      { timeout: 15000 },
    );
    await expectText(page, '#sip-password-state', /A password is stored/);
    await expectValue(page, '#sip-password', '', { message: 'never sent back' });
    await shot(page, 'sip-server');
    await page.check('#sip-enable');
    await page.click('#sip-form button[type="submit"]');
    await page.waitForSelector('#sip-form .form-message:has-text("this VTO is the SIP server")');
    await expectText(page, '#sip-registration', /this VTO is the SIP server/);
    assert.equal(unexpectedErrors(env.errors).length, 0, unexpectedErrors(env.errors).join('\n'));
  });
});
