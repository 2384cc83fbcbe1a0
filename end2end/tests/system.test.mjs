// Local Setting > System (manual 4.4): formats and zone change how every
// time is shown; Sync PC sets the device's clock from the browser's; Save,
// Refresh and Default; an invalid value shows its error and saves nothing.

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
import { eventually, expectChecked, expectText, expectValue } from '../lib/wait.mjs';

describe('Local Setting > System', { timeout: 90000 }, () => {
  let env;
  before(async () => {
    env = await startLoggedIn();
  });
  after(async () => {
    await env?.close();
  });

  const SAVE = '#system-form button[type=submit]';

  it('shows the defaults with every label', async () => {
    const { page, url } = env;
    await page.click('nav.sidenav a[href="/local/system"]');
    await page.waitForURL(`${url}/local/system`);
    // The form renders once its values are loaded.
    await expectValue(page, '#date-format', 'ymd');
    await expectValue(page, '#time-format', '24');
    await expectValue(page, '#zone', '0');
    await expectValue(page, '#ntp-server', 'pool.ntp.org');
    await expectValue(page, '#ntp-port', '123');
    await expectValue(page, '#ntp-cycle', '10');
    await expectValue(page, '#maintenance-day', 'never');
    await expectChecked(page, '#ntp', false);
    for (const [id, label] of [
      ['date-format', 'Date Format'],
      ['time-format', 'Time Format'],
      ['system-time', 'System Time'],
      ['zone', 'Zone'],
      ['dst', 'DST'],
      ['ntp', 'NTP Enable'],
      ['ntp-server', 'NTP Server'],
      ['ntp-port', 'Port'],
      ['ntp-cycle', 'Update Cycle (min)'],
    ]) {
      await expectText(page, `label[for=${id}]`, label);
    }
    // The System Time field shows the device's clock (here the host's).
    await eventually('System Time is the host time', async () => {
      const shown = Date.parse(`${await page.inputValue('#system-time')}Z`);
      assert.ok(Math.abs(shown - Date.now()) < 60000, `System Time ${shown}`);
    });
    await page.check('#dst');
    await expectValue(page, '#dst-type', 'week');
    await expectValue(page, '#dst-begin-month', '3');
    await expectValue(page, '#dst-begin-week', '5');
    await shot(page, 'local-system');
    await page.uncheck('#dst');
  });

  it('an invalid value shows its error as typed and saves nothing', async () => {
    const { page } = env;
    await page.fill('#ntp-cycle', '31');
    assert.match(await waitFieldError(page, 'ntp-cycle'), /1 to 30 minutes/);
    await page.fill('#ntp-server', 'not a host');
    assert.match(await waitFieldError(page, 'ntp-server'), /host name or an IP address/);
    await page.click(SAVE);
    await shot(page, 'local-system-invalid');
    await page.click('#system-refresh');
    await page.waitForFunction(() => document.querySelector('#ntp-cycle').value === '10');
    await expectValue(page, '#ntp-server', 'pool.ntp.org');
    await expectFieldError(page, 'ntp-cycle', '');
  });

  it('Save applies formats and zone to the times the UI shows', async () => {
    const { page, url } = env;
    await page.selectOption('#date-format', 'dmy');
    await page.selectOption('#time-format', '12');
    await page.selectOption('#zone', '330');
    await page.selectOption('#maintenance-day', 'sun');
    await page.fill('#maintenance-time', '03:30');
    await page.click(SAVE);
    await page.waitForSelector('#system-form .form-message.ok');
    await expectText(page, '#device-time', /\d\d-\d\d-\d{4} \d\d:\d\d:\d\d [AP]M$/);
    await expectText(page, '#maintenance-next', /restart next at \d\d-\d\d-\d{4} 03:30:00 AM/);
    await page.goto(`${url}/log/security`);
    await hydrated(page);
    await expectText(page, '#security-log tbody tr td.time', /^\d\d-\d\d-\d{4} \d\d:\d\d:\d\d [AP]M$/);
    await expectText(page, '#security-log', /System: Date Format, Time Format, Zone, Auto Maintenance/);
  });

  it('Sync PC sets the device clock from the browser clock', async () => {
    const { page, url } = env;
    await page.goto(`${url}/local/system`);
    await hydrated(page);
    await page.waitForSelector('#sync-pc');
    // A PC whose clock says 2030-01-01 00:00 UTC (05:30 in GMT+05:30).
    await page.evaluate(() => {
      Date.now = () => 1893456000000;
    });
    await page.click('#sync-pc');
    await page.waitForSelector('#system-form .form-message.ok');
    await expectText(page, '#device-time', /01-01-2030 05:30:\d\d AM/);
    await expectValue(page, '#system-time', /^2030-01-01T05:30(:\d\d)?$/);
    // Typing a time and saving sets it too.
    await page.fill('#system-time', '2031-06-15T20:15');
    await page.click(SAVE);
    await page.waitForSelector('#system-form .form-message.ok');
    await expectText(page, '#device-time', /15-06-2031 08:15:\d\d PM/);
  });

  it('Default fills the defaults in, saved only on Save', async () => {
    const { page } = env;
    await page.click('#system-default');
    await page.waitForFunction(() => document.querySelector('#zone').value === '0');
    await expectValue(page, '#date-format', 'ymd');
    await page.click('#system-refresh');
    await page.waitForFunction(() => document.querySelector('#zone').value === '330');
    await page.click('#system-default');
    await page.waitForFunction(() => document.querySelector('#zone').value === '0');
    await page.click(SAVE);
    await page.waitForSelector('#system-form .form-message.ok');
    await page.click('#system-refresh');
    await page.waitForFunction(() => document.querySelector('#time-format').value === '24');
    await expectText(page, '#device-time', /2031-06-15 14:4\d:\d\d$/);
    assert.deepEqual(unexpectedErrors(env.errors), []);
  });
});
