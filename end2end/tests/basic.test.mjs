// Local Setting > Basic (manual 4.1): Confirm, Refresh and Default; an
// invalid value shows its error next to the field and saves nothing; the
// Storage Point's usage and bounds.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  startLoggedIn,
  hydrated,
  shot,
  waitFieldError,
  expectFieldError,
  unexpectedErrors,
} from '../lib/harness.mjs';
import { expectText, expectValue } from '../lib/wait.mjs';

describe('Local Setting > Basic', { timeout: 90000 }, () => {
  let env;
  before(async () => {
    env = await startLoggedIn();
  });
  after(async () => {
    await env?.close();
  });

  const CONFIRM = '#basic-form button[type=submit]';

  it('shows the manual defaults with every label', async () => {
    const { page, url } = env;
    await page.click('nav.sidenav a[href="/local/basic"]');
    await page.waitForURL(`${url}/local/basic`);
    // The form renders once its values are loaded.
    await expectValue(page, '#vto-no', '8001');
    await expectValue(page, '#centre-call-no', '888888');
    await expectValue(page, '#call-centre-start', '00:00');
    await expectValue(page, '#call-centre-end', '23:59');
    await expectValue(page, '#device-type', 'villa');
    for (const [id, label] of [
      ['device-type', 'Device Type'],
      ['vto-no', 'VTO No.'],
      ['centre-call-no', 'Centre Call No.'],
    ]) {
      await expectText(page, `label[for=${id}]`, label);
    }
    // Under the Storage Point: what the device's files take, and the bounds.
    await expectText(
      page,
      '#storage-usage',
      'In use: 0 files, 0.0 MB of at most 1000 files and 1024.0 MB; beyond, the oldest are removed first.',
    );
    await shot(page, 'local-basic');
  });

  it('an invalid value shows its error as typed and saves nothing', async () => {
    const { page } = env;
    await page.fill('#vto-no', '80a1');
    assert.match(await waitFieldError(page, 'vto-no'), /1 to 6 digits/);
    await page.click(CONFIRM);
    await shot(page, 'local-basic-invalid');
    await page.click('#basic-refresh');
    await page.waitForFunction(() => document.querySelector('#vto-no').value === '8001');
    await expectFieldError(page, 'vto-no', '');
  });

  it('Confirm saves the page and the main interface shows it', async () => {
    const { page, url } = env;
    await page.fill('#vto-no', '8123');
    await page.selectOption('#device-type', 'second-confirmation');
    await page.fill('#call-centre-start', '08:00');
    await page.fill('#call-centre-end', '18:30');
    await page.click(CONFIRM);
    await page.waitForSelector('#basic-form .form-message.ok');
    await page.goto(`${url}/`);
    await hydrated(page);
    await expectText(page, '#vto-no', '8123');
    await expectText(page, '#device-type', 'Second Confirmation');
    await page.goto(`${url}/local/basic`);
    await hydrated(page);
    await expectValue(page, '#call-centre-start', '08:00');
    await expectValue(page, '#call-centre-end', '18:30');
  });

  it('Default fills the defaults in, saved only on Confirm', async () => {
    const { page } = env;
    await page.click('#basic-default');
    await page.waitForFunction(() => document.querySelector('#vto-no').value === '8001');
    await page.click('#basic-refresh');
    await page.waitForFunction(() => document.querySelector('#vto-no').value === '8123');
    await page.click('#basic-default');
    await page.waitForFunction(() => document.querySelector('#vto-no').value === '8001');
    await page.click(CONFIRM);
    await page.waitForSelector('#basic-form .form-message.ok');
    await page.click('#basic-refresh');
    await page.waitForFunction(() => document.querySelector('#device-type').value === 'villa');
    await expectValue(page, '#vto-no', '8001');
  });

  it('the security log names the changed fields', async () => {
    const { page, url } = env;
    await page.goto(`${url}/log/security`);
    await hydrated(page);
    await expectText(page, '#security-log', /Settings changed/);
    await expectText(page, '#security-log', /Basic: Device Type, Call Centre Time, VTO No\./);
    assert.deepEqual(unexpectedErrors(env.errors), []);
  });
});
