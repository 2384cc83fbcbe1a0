// Answering the door in the browser (issue 19): a door call rings in two
// signed-in browsers at once, beside a sipp monitor of the room. The first
// browser answers over WebRTC with Chromium's fake microphone: it becomes
// the talker, the monitor gets CANCEL with "Call completed elsewhere"
// (checked by sipp), the second browser shows "Answered at ...", the door's
// speaker hears the browser, the browser decodes the door's picture and
// receives its sound; Unlock opens the door; Hang Up ends the call and the
// call log has the row. Then a second call is rejected from a browser.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  startLoggedIn,
  login,
  hydrated,
  shot,
  sipAddress,
  sipp,
  freePort,
  waitUdpBound,
  TRACK_PEER_CONNECTIONS,
  pageApi as api,
} from '../lib/harness.mjs';
import { eventually, expectText, expectVisible, expectHidden } from '../lib/wait.mjs';

const PW = 'Door2026Bell';

describe('Answer in the browser', { timeout: 150000 }, () => {
  let env;
  let other;
  before(async () => {
    env = await startLoggedIn();
    await env.context.addInitScript(TRACK_PEER_CONNECTIONS);
    const context = await env.browser.newContext({ viewport: { width: 390, height: 844 } });
    context.setDefaultTimeout(10000);
    await context.grantPermissions(['camera', 'microphone'], { origin: env.url });
    other = await context.newPage();
    await login(other, env.url);
  });
  after(async () => {
    await env?.close();
  });

  it('rings in every browser; the first to answer talks, the monitor is cancelled elsewhere', async () => {
    const { page, url, vto } = env;
    const sip = sipAddress(vto);
    await page.goto(`${url}/`);
    await hydrated(page);
    const room = { first_name: 'Ada', last_name: 'Lovelace', nick_name: '', room_no: '9901', register_type: 'Public' };
    assert.equal((await api(page, 'add_room', { room, password: PW })).status, 200);
    const port = await freePort();
    const reg = await sipp('register.xml', sip, { user: '9901#0', password: PW, port });
    assert.equal(reg.code, 0, reg.out);
    const monitor = sipp('callee-ring-elsewhere.xml', sip, { user: '9901#0', port });
    await waitUdpBound(port);
    // The second browser is on another page: the call finds it there.
    await other.goto(`${url}/log/call`);
    await hydrated(other);
    await expectHidden(other, '#door-ring');

    const pressed = await api(page, 'call');
    assert.equal(pressed.status, 200, JSON.stringify(pressed.body));
    for (const p of [page, other]) {
      await expectVisible(p, '#door-ring', { message: 'the call panel shows' });
      await expectText(p, '#ring-state', 'The door calls 9901.');
      await expectVisible(p, '#answer-call');
      await expectVisible(p, '#reject-call');
    }
    await page.waitForFunction(() => document.title.includes('Door call'), null, { timeout: 5000 });
    // On the phone the call panel is on the first screen: the navigation
    // is a menu opened on demand.
    const top = await other.$eval('#door-ring', (e) => e.getBoundingClientRect().top);
    assert.ok(top < 200, `the call panel starts ${top} px down`);
    await expectHidden(other, '.sidenav a[href="/log/unlock"]');
    await shot(other, 'ring-phone');
    await other.click('label[for="nav-toggle"]');
    await expectVisible(other, '.sidenav a[href="/log/unlock"]');
    await shot(other, 'ring-phone-menu');
    await other.click('label[for="nav-toggle"]');
    await expectHidden(other, '.sidenav a[href="/log/unlock"]');

    await page.click('#answer-call');
    await expectText(page, '#ring-state', 'Talking with the door.');
    await expectText(other, '#ring-state', /Answered at admin \(browser\)/);
    await expectHidden(other, '#answer-call');
    // sipp checked the CANCEL's Reason.
    const rang = await monitor;
    assert.equal(rang.code, 0, rang.out);

    // The browser decodes the door's picture and receives its sound on
    // the connection it talks on (the one that sends its microphone).
    const talkStats = () =>
      page.evaluate(async () => {
        const pc = (window.__vtoPeerConnections ?? []).find(
          (p) => p.connectionState !== 'closed' && p.getSenders().some((s) => s.track?.kind === 'audio'),
        );
        if (!pc) return null;
        const out = { frames: 0, width: 0, audioPackets: 0, sentPackets: 0 };
        (await pc.getStats()).forEach((r) => {
          if (r.type === 'inbound-rtp' && r.kind === 'video') {
            out.frames = r.framesDecoded ?? 0;
            out.width = r.frameWidth ?? 0;
          }
          if (r.type === 'inbound-rtp' && r.kind === 'audio') out.audioPackets = r.packetsReceived ?? 0;
          if (r.type === 'outbound-rtp' && r.kind === 'audio') out.sentPackets = r.packetsSent ?? 0;
        });
        return out;
      });
    const first = await eventually(
      'the door decoded and heard on the talking connection',
      async () => {
        const s = await talkStats();
        assert.ok(s && s.frames > 10 && s.width === 1280 && s.audioPackets > 25 && s.sentPackets > 25, JSON.stringify(s));
        return s;
      },
      { timeout: 20000, interval: 250 },
    );
    await eventually('its sound keeps coming', async () => {
      const s = await talkStats();
      assert.ok(s.audioPackets > first.audioPackets + 25, JSON.stringify(s));
    });
    await eventually('the talk picture plays at 1280x720', async () =>
      assert.deepEqual(
        await page.$eval('#talk-video', (v) => [v.videoWidth, v.videoHeight]),
        [1280, 720],
        await page.$eval('#talk-video', (v) =>
          JSON.stringify({ tracks: v.srcObject?.getTracks().map((t) => `${t.kind}:${t.readyState}`), paused: v.paused, ready: v.readyState, n: document.querySelectorAll('#talk-video').length }),
        ),
      ),
    );
    // The door's speaker hears the browser's (fake) microphone.
    await eventually(
      "the door speaker's level from the browser",
      async () => {
        const s = await api(page, 'call_status', { seen: Number.MAX_SAFE_INTEGER });
        assert.ok(s.body.speaker_level > 30, `${JSON.stringify(s.body)}\n${vto.logs().split('\n').filter((l) => /browser|talk|G.711|track/i.test(l)).join('\n')}`);
      },
      { timeout: 15000, interval: 250 },
    );
    await shot(page, 'ring-talking');

    // A monitor cannot take the call any more; a second browser either.
    const late = await api(other, 'answer_call', { sdp: 'v=0\r\n' });
    assert.equal(late.status, 422, JSON.stringify(late.body));
    assert.match(JSON.stringify(late.body), /Answered at admin/);

    await page.click('#ring-unlock');
    await expectText(page, '#door-ring .form-message.ok', 'The door is open.');
    await page.click('#ring-hang-up');
    await expectHidden(page, '#door-ring');
    await expectHidden(other, '#door-ring');
    await page.goto(`${url}/log/call`);
    await hydrated(page);
    await expectText(page, '#call-log tbody tr:first-child', /Door Call.*9901.*Answered/);
    await page.goto(`${url}/log/unlock`);
    await hydrated(page);
    await expectText(page, 'table tbody tr:first-child', /Remote/);
  });

  it('a browser rejects the call for everyone', async () => {
    const { page, url } = env;
    await page.goto(`${url}/`);
    await hydrated(page);
    const port = await freePort();
    const sip = sipAddress(env.vto);
    const reg = await sipp('register.xml', sip, { user: '9901#0', password: PW, port });
    assert.equal(reg.code, 0, reg.out);
    const monitor = sipp('callee-ring.xml', sip, { user: '9901#0', port });
    await waitUdpBound(port);
    assert.equal((await api(page, 'call')).status, 200);
    await expectVisible(other, '#reject-call');
    await other.click('#reject-call');
    await expectHidden(page, '#door-ring');
    await expectText(page, '#call-message', /Last call to 9901: Rejected/);
    await monitor;
    await page.goto(`${url}/log/call`);
    await hydrated(page);
    await expectText(page, '#call-log tbody tr:first-child', /Door Call.*9901.*Rejected/);
  });
});
