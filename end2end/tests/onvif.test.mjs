// Network Setting > ONVIF in the browser: enabling without a password puts
// the errors next to the fields, enabling with one shows the state, the
// password is never shown again and the ONVIF service answers.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startLoggedIn, hydrated, shot, expectFieldError } from '../lib/harness.mjs';
import { expectText } from '../lib/wait.mjs';

const PASSWORD = 'Onvif-Pass-4711';
const CLOCK = '<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body>'
  + '<GetSystemDateAndTime xmlns="http://www.onvif.org/ver10/device/wsdl"/></s:Body></s:Envelope>';

describe('Network Setting > ONVIF', { timeout: 90000 }, () => {
  let env;
  before(async () => {
    env = await startLoggedIn();
  });
  after(async () => {
    await env?.close();
  });

  it('shows errors next to the fields, then enables with a password', async () => {
    const { page, url } = env;
    let r = await page.request.post(`${url}/onvif/device_service`, { data: CLOCK });
    assert.equal(r.status(), 404, 'off until enabled');
    await page.click('nav.sidenav a[href="/network/onvif"]');
    await page.waitForURL(`${url}/network/onvif`);
    await hydrated(page);
    await expectText(page, '#onvif-state', /^Off: /);
    await expectText(page, '#onvif-password-state', 'No ONVIF password stored.');
    await page.check('#onvif-enable');
    await page.check('#onvif-discovery');
    await page.click('#onvif-form button[type=submit]');
    await expectFieldError(page, 'onvif-user', 'Choose the account ONVIF logs in as');
    await expectFieldError(page, 'onvif-password', 'Enter the ONVIF password');
    await page.fill('#onvif-user', 'nobody');
    await page.fill('#onvif-password', 'short');
    await expectFieldError(page, 'onvif-password', 'At least 8 characters');
    await page.fill('#onvif-password', PASSWORD);
    await expectFieldError(page, 'onvif-password', '');
    // The device's own check: no such account, next to the field.
    await page.click('#onvif-form button[type=submit]');
    await expectFieldError(page, 'onvif-user', 'No such account');
    await page.fill('#onvif-user', 'admin');
    await page.click('#onvif-form button[type=submit]');
    await expectText(page, '#onvif-form .form-message.ok', 'Saved.');
    await expectText(page, '#onvif-state', /^On: ONVIF clients log in as admin\. WS-Discovery answers on 127\.0\.0\.1:\d+\.$/);
    await expectText(page, '#onvif-password-state', 'An ONVIF password is stored. Leave empty to keep it.');
    assert.equal(await page.inputValue('#onvif-password'), '');
    await expectText(page, '#onvif-device-service', '/onvif/device_service');
    await shot(page, 'onvif');
    r = await page.request.post(`${url}/onvif/device_service`, { data: CLOCK });
    assert.equal(r.status(), 200);
    assert.match(await r.text(), /UTCDateTime/);
  });

  it('keeps the state and never shows the password after a reload', async () => {
    const { page, url } = env;
    await page.reload();
    await hydrated(page);
    await expectText(page, '#onvif-state', /^On: ONVIF clients log in as admin\./);
    assert.equal(await page.isChecked('#onvif-enable'), true);
    assert.equal(await page.inputValue('#onvif-user'), 'admin');
    assert.ok(!(await page.content()).includes(PASSWORD));
    const r = await page.request.post(`${url}/api/onvif_settings`, { data: {}, headers: { origin: url } });
    assert.ok(!(await r.text()).includes(PASSWORD));
  });
});
