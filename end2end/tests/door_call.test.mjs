// A door call from the browser: the simulated door panel on the main page
// (marked as the simulator) dials a room, a plain SIP phone (sipp) as the
// room's monitor answers and keys in the First Unlock Command as SIP INFO,
// the door opens (the door panel shows the SIP unlock live), Hang Up ends
// the call, and the panel says how it went. A bad number gets its error
// next to the field. A monitor calling the door (Monitor) shows on the
// panel and in the call log. Then Leave Message Upload on Local Setting > Basic: a
// monitor that never answers (Ring Time 3 s here), the door records the
// visitor, and the message plays in Chromium from the Messages page.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  startLoggedIn,
  hydrated,
  shot,
  sipAddress,
  sipp,
  freePort,
  waitUdpBound,
  waitFieldError,
} from '../lib/harness.mjs';
import { expectEnabled, expectText, expectVisible } from '../lib/wait.mjs';

const PW = 'Door2026Bell';

describe('Door call', { timeout: 120000 }, () => {
  let env;
  before(async () => {
    env = await startLoggedIn({ args: ['--ring-secs', '3'] });
  });
  after(async () => {
    await env?.close();
  });

  it('calls a room from the door panel, the monitor opens the door by INFO', async () => {
    const { page, url, vto } = env;
    const sip = sipAddress(vto);
    await page.goto(`${url}/`);
    await hydrated(page);
    const added = await page.evaluate(async (pw) => {
      const room = { first_name: 'Ada', last_name: 'Lovelace', nick_name: '', room_no: '9901', register_type: 'Public' };
      const res = await fetch('/api/add_room', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ room, password: pw }),
      });
      return res.status;
    }, PW);
    assert.equal(added, 200);
    const port = await freePort();
    const reg = await sipp('register.xml', sip, { user: '9901#0', password: PW, port });
    assert.equal(reg.code, 0, reg.out);

    await expectVisible(page, '#call-title .tag', { message: 'the door panel is marked as the simulator' });
    await expectText(page, '#call-state', 'Idle');
    // A bad number: the error next to the field, nothing called.
    await page.fill('#call-number', '99;01');
    await page.click('#dial');
    assert.match(await waitFieldError(page, 'call-number'), /digits/);
    await expectText(page, '#call-state', 'Idle');

    const monitor = sipp('callee-info-unlock.xml', sip, { user: '9901#0', port });
    await waitUdpBound(port);
    await expectEnabled(page, '#call');
    await page.click('#call');
    await expectText(page, '#call-state', 'Talking');
    await expectText(page, '#call-message', /Talking: 9901#0 answered/);
    // 1, 2, 3 by INFO: the door panel shows the opening live.
    await page.waitForFunction(() => /SIP by 9901#0/.test(document.querySelector('#last-unlock')?.textContent ?? ''));
    await expectText(page, '#lock-state', 'Open');
    await shot(page, 'door-call-talking');
    await page.click('#hang-up');
    const run = await monitor;
    assert.equal(run.code, 0, run.out);
    await expectText(page, '#call-state', 'Idle');
    await expectText(page, '#call-message', /Last call to 9901: Answered, talked 0:0\d/);
    await shot(page, 'door-call-ended');
  });

  it('lists the call in Log Management > Call', async () => {
    const { page, url } = env;
    await page.goto(`${url}/log/call`);
    await hydrated(page);
    await expectText(page, '#call-log tbody tr:first-child', /Door Call.*9901.*Answered/);
  });

  it('shows a monitor watching the door (Monitor) and lists it in the call log', async () => {
    const { page, url, vto } = env;
    const sip = sipAddress(vto);
    const port = await freePort();
    const reg = await sipp('register.xml', sip, { user: '9901#0', password: PW, port });
    assert.equal(reg.code, 0, reg.out);
    await page.goto(`${url}/`);
    await hydrated(page);
    await expectText(page, '#call-state', 'Idle');
    const watching = sipp('caller-watch.xml', sip, { user: '9901#0', port, fields: ['8001'] });
    await expectText(page, '#call-state', 'Monitor');
    await expectText(page, '#call-message', /Monitor: 9901#0 watches the door/);
    await shot(page, 'door-monitor');
    const run = await watching;
    assert.equal(run.code, 0, run.out);
    await expectText(page, '#call-state', 'Idle');
    await expectText(page, '#call-message', /Last Monitor by 9901#0, talked 0:0\d/);
    await page.goto(`${url}/log/call`);
    await hydrated(page);
    await expectText(page, '#call-log tbody tr:first-child', /Monitor.*9901.*9901#0.*8001.*Answered/);
  });

  it('a visitor nobody answers leaves a message that plays on the Messages page', async () => {
    const { page, url, vto } = env;
    const sip = sipAddress(vto);
    await page.goto(`${url}/local/basic`);
    await hydrated(page);
    for (const label of ['Auto Snapshot (talking)', 'Leave Message Upload', 'Message Time (s)']) {
      await expectVisible(page, `#basic-form label:text-is("${label}")`, { message: label });
    }
    await page.fill('#message-time', '61');
    await page.click('#basic-form button[type="submit"]');
    assert.match(await waitFieldError(page, 'message-time'), /5 to 60 seconds/);
    await page.fill('#message-time', '5');
    await page.check('#leave-message');
    await page.click('#basic-form button[type="submit"]');
    await page.waitForSelector('#basic-form .form-message.ok');

    const port = await freePort();
    const reg = await sipp('register.xml', sip, { user: '9901#0', password: PW, port });
    assert.equal(reg.code, 0, reg.out);
    const monitor = sipp('callee-ring.xml', sip, { user: '9901#0', port });
    await waitUdpBound(port);
    await page.goto(`${url}/`);
    await hydrated(page);
    await expectEnabled(page, '#call');
    await page.click('#call');
    await expectText(page, '#call-state', 'Ringing');
    await page.waitForFunction(() => document.querySelector('#call-state')?.textContent === 'Recording a message', null, { timeout: 15000 });
    await shot(page, 'door-call-message');
    const run = await monitor;
    assert.equal(run.code, 0, run.out);
    await page.waitForFunction(() => document.querySelector('#call-state')?.textContent === 'Idle', null, { timeout: 20000 });
    await expectText(page, '#call-message', /Last call to 9901: Message Left/);

    await page.click('nav.sidenav a[href="/log/messages"]');
    await page.waitForURL(`${url}/log/messages`);
    await hydrated(page);
    await expectVisible(page, '#messages li video', { message: 'the message' });
    // Muted: a page may play without a click then.
    await page.$eval('#messages li video', (v) => {
      v.muted = true;
      return v.play();
    });
    await page.waitForFunction(() => {
      const v = document.querySelector('#messages li video');
      return v && v.currentTime > 2 && v.videoWidth === 1280 && v.webkitAudioDecodedByteCount > 0;
    }, null, { timeout: 15000 });
    await shot(page, 'messages');
    await page.click('#messages li button:has-text("Delete")');
    await expectVisible(page, '#messages-empty', { message: 'no message left' });
  });
});
