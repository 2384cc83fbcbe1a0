// One talker (issue 19): two signed-in browsers (a desktop and a phone)
// and a real SIP monitor (baresip) get the same door call and race to
// answer; exactly one talks, the others are refused or cancelled. Then
// Take Over moves the talk from the monitor to a browser (the monitor is
// hung up) and from one browser to the other (which is told), Push to Talk
// keeps the microphone closed until the button is held, Watch Calls
// Answered Elsewhere keeps the door on the other browsers' panels, a
// dashboard answers through the WHEP-style API and follows the call's
// event stream, and a page on plain HTTP from another machine links to
// HTTPS instead of failing to get a microphone.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  startLoggedIn,
  login,
  hydrated,
  shot,
  sipAddress,
  startBaresip,
  STRONG,
  pageApi as api,
} from '../lib/harness.mjs';
import { eventually, expectText, expectVisible, expectHidden } from '../lib/wait.mjs';

const PW = 'Door2026Bell';

const status = async (page) => (await api(page, 'call_status', { seen: Number.MAX_SAFE_INTEGER })).body;

/** Until the door's speaker level is above (or at most) `level`. */
async function speaker(page, what, check) {
  return eventually(what, async () => {
    const s = await status(page);
    assert.ok(check(s.speaker_level), JSON.stringify(s));
  }, { timeout: 15000, interval: 200 });
}

const talks = async (p) => (await p.textContent('#ring-state')) === 'Talking with the door.';

describe('One talker', { timeout: 240000 }, () => {
  let env;
  let other;
  let monitor;
  before(async () => {
    // door.test: the name the "other machine" reaches the device by (a
    // name the device answers to only when told, like a LAN DNS name).
    env = await startLoggedIn({ args: ['--host-name', 'door.test'] });
    const context = await env.browser.newContext({ viewport: { width: 390, height: 844 } });
    context.setDefaultTimeout(10000);
    await context.grantPermissions(['microphone'], { origin: env.url });
    await env.context.grantPermissions(['microphone'], { origin: env.url });
    other = await context.newPage();
    await login(other, env.url);
    const room = { first_name: 'Ada', last_name: 'Lovelace', nick_name: '', room_no: '9901', register_type: 'Public' };
    assert.equal((await api(env.page, 'add_room', { room, password: PW })).status, 200);
    monitor = await startBaresip('9901#0', PW, sipAddress(env.vto));
  });
  after(async () => {
    await monitor?.stop();
    await env?.close();
  });

  /** Presses Call; every browser and the monitor ring. */
  async function ring() {
    const { page } = env;
    const seen = monitor.events.length;
    assert.equal((await api(page, 'call')).status, 200);
    for (const p of [page, other]) await expectText(p, '#ring-state', 'The door calls 9901.');
    await eventually('the monitor rings', () =>
      assert.ok(monitor.events.slice(seen).some((e) => e.type === 'CALL_INCOMING')));
    return seen;
  }

  async function idle() {
    await api(env.page, 'hang_up');
    for (const p of [env.page, other]) await expectHidden(p, '#door-ring');
  }

  const closedSince = (seen) => monitor.events.slice(seen).some((e) => e.type === 'CALL_CLOSED');
  const establishedSince = (seen) => monitor.events.slice(seen).some((e) => e.type === 'CALL_ESTABLISHED');

  /**
   * One race: both browsers press Answer at once and the monitor accepts
   * at once (`monitorFirst`: all three together) or once a browser talks
   * (it answers later). Exactly one talks; the others say who and cannot
   * answer any more. Which one won.
   */
  async function race(monitorFirst) {
    const { page } = env;
    const seen = await ring();
    // A click that waited for its button would lose the race by design.
    const press = (p) => p.evaluate(() => document.getElementById('answer-call')?.click());
    if (monitorFirst) {
      await Promise.all([press(page), press(other), monitor.command('accept')]);
    } else {
      await Promise.all([press(page), press(other)]);
      await eventually('a browser answered', async () => assert.equal((await status(page)).phase, 'Talking'));
      await monitor.command('accept');
    }
    const winner = await eventually('the race settled on one talker', async () => {
      const s = await status(page);
      assert.equal(s.phase, 'Talking');
      const browsers = [await talks(page), await talks(other)];
      for (const p of [page, other]) assert.notEqual(await p.textContent('#ring-state'), 'Connecting…');
      const monitorTalks = establishedSince(seen) && !closedSince(seen);
      const n = browsers.filter(Boolean).length + (monitorTalks ? 1 : 0);
      assert.equal(n, 1, `talkers: browsers ${browsers}, monitor ${monitorTalks}; ${JSON.stringify(s)}`);
      if (monitorTalks) {
        assert.equal(s.answered_by, '9901#0');
        return 'monitor';
      }
      assert.equal(s.answered_by, 'admin (browser)');
      // The monitor that lost was cancelled, or hung up at once if its
      // answer crossed the CANCEL.
      assert.ok(closedSince(seen), JSON.stringify(monitor.events.slice(seen)));
      return browsers[0] ? 'page' : 'other';
    }, { timeout: 20000, interval: 100 });
    const who = winner === 'monitor' ? '9901#0' : 'admin (browser)';
    for (const [p, name] of [[page, 'page'], [other, 'other']]) {
      if (name === winner) continue;
      await expectText(p, '#ring-state', `Answered at ${who}.`);
      await expectHidden(p, '#answer-call');
      await expectVisible(p, '#take-over');
      const late = await api(p, 'answer_call', { sdp: 'v=0\r\n' });
      assert.equal(late.status, 422);
      assert.match(JSON.stringify(late.body), new RegExp(`Answered at ${who.replace(/[()]/g, '\\$&')}`));
    }
    // The talker is heard on the door's speaker.
    await speaker(page, 'the talker heard', (l) => l > 30);
    await idle();
    await eventually('the monitor hung up', () => assert.ok(closedSince(seen)));
    return winner;
  }

  it('two browsers and a monitor race to answer: exactly one talks', async (t) => {
    const { page } = env;
    await page.goto(`${env.url}/`);
    await hydrated(page);
    await other.goto(`${env.url}/log/call`);
    await hydrated(other);
    t.diagnostic(`all three at once: won by ${await race(true)}`);
    // The browsers race each other; the monitor answering later is refused.
    const winner = await race(false);
    t.diagnostic(`the browsers, then the monitor: won by ${winner}`);
    assert.notEqual(winner, 'monitor');
  });

  it('Take Over: from the monitor (hung up), then from the other browser (told)', async () => {
    const { page } = env;
    const seen = await ring();
    await monitor.command('accept');
    await monitor.event('CALL_ESTABLISHED');
    for (const p of [page, other]) {
      await expectText(p, '#ring-state', 'Answered at 9901#0.');
      // Watch Calls Answered Elsewhere is off: the talk is private.
      await expectHidden(p, '#door-ring .live-view');
    }
    await shot(other, 'answered-elsewhere-phone');
    await other.click('#take-over');
    await expectText(other, '#ring-state', 'Talking with the door.');
    await eventually('the monitor hung up by the device', () => assert.ok(closedSince(seen)));
    await expectText(page, '#ring-state', 'Answered at admin (browser).');
    await speaker(page, 'the phone heard', (l) => l > 30);

    await page.click('#take-over');
    await expectText(page, '#ring-state', 'Talking with the door.');
    await expectText(other, '#ring-taken', 'Taken over by admin (browser).');
    await expectText(other, '#ring-state', 'Answered at admin (browser).');
    await expectVisible(other, '#take-over');
    await shot(other, 'taken-over-phone');

    // Push to Talk: nothing reaches the door until Hold to Talk is held.
    await speaker(page, 'the desktop heard', (l) => l > 30);
    await page.check('#ring-ptt');
    await expectText(page, '#ring-hold', 'Hold to Talk');
    await speaker(page, 'silent without holding', (l) => l === 0);
    await page.hover('#ring-hold');
    await page.mouse.down();
    await expectText(page, '#ring-hold', 'Talking…');
    await speaker(page, 'heard while held', (l) => l > 30);
    await shot(page, 'push-to-talk');
    await page.mouse.up();
    await speaker(page, 'silent again once let go', (l) => l === 0);
    await page.uncheck('#ring-ptt');
    await speaker(page, 'heard again without push-to-talk', (l) => l > 30);
    await page.click('#ring-hang-up');
    for (const p of [page, other]) await expectHidden(p, '#door-ring');
  });

  it('Watch Calls Answered Elsewhere keeps the door on the other panels', async () => {
    const { page } = env;
    await page.goto(`${env.url}/local/basic`);
    await hydrated(page);
    await page.check('#watch-answered');
    await page.click('#basic-form button[type=submit]');
    await page.waitForSelector('#basic-form .form-message.ok');
    const seen = await ring();
    await monitor.command('accept');
    await monitor.event('CALL_ESTABLISHED');
    await expectText(other, '#ring-state', 'Answered at 9901#0.');
    await expectVisible(other, '#door-ring .live-view');
    await eventually('the other browser plays the door', async () =>
      assert.ok((await other.$eval('#door-ring .live-view video', (v) => v.videoWidth)) > 0));
    await idle();
    await eventually('the monitor hung up', () => assert.ok(closedSince(seen)));
  });

  it('a dashboard answers by WHEP and follows the event stream', async () => {
    const { page } = env;
    await page.goto(`${env.url}/`);
    await hydrated(page);
    // The stream, as a dashboard's EventSource reads it.
    await page.evaluate(() => {
      window.__events = [];
      const es = new EventSource('/api/call/events');
      es.addEventListener('status', (e) => window.__events.push(JSON.parse(e.data)));
      window.__es = es;
    });
    await eventually('the first event at once', async () =>
      assert.equal(await page.evaluate(() => window.__events[0]?.phase), 'Idle'));
    const seen = await ring();
    const answered = await page.evaluate(async () => {
      const mic = await navigator.mediaDevices.getUserMedia({ audio: true });
      const pc = new RTCPeerConnection();
      mic.getTracks().forEach((t) => pc.addTrack(t, mic));
      pc.addTransceiver('video', { direction: 'recvonly' });
      await pc.setLocalDescription(await pc.createOffer());
      await new Promise((res) => {
        if (pc.iceGatheringState === 'complete') res();
        pc.addEventListener('icegatheringstatechange', () => pc.iceGatheringState === 'complete' && res());
      });
      const res = await fetch('/api/call/whep', {
        method: 'POST',
        headers: { 'content-type': 'application/sdp' },
        body: pc.localDescription.sdp,
      });
      const sdp = await res.text();
      if (res.status !== 201) return { status: res.status, sdp };
      await pc.setRemoteDescription({ type: 'answer', sdp });
      window.__dashboard = pc;
      return { status: res.status, location: res.headers.get('location'), talker: res.headers.get('x-talker'), sdp };
    });
    assert.equal(answered.status, 201, answered.sdp);
    assert.match(answered.location, /^\/api\/call\/whep\/.+/);
    assert.match(answered.sdp, /PCM[UA]\/8000/);
    await eventually('the monitor cancelled elsewhere', () => assert.ok(closedSince(seen)));
    await eventually('the dashboard receives the door', async () => {
      const got = await page.evaluate(async () => {
        const out = { frames: 0, audio: 0 };
        (await window.__dashboard.getStats()).forEach((r) => {
          if (r.type === 'inbound-rtp' && r.kind === 'video') out.frames = r.framesDecoded ?? 0;
          if (r.type === 'inbound-rtp' && r.kind === 'audio') out.audio = r.packetsReceived ?? 0;
        });
        return out;
      });
      assert.ok(got.frames > 5 && got.audio > 25, JSON.stringify(got));
    }, { timeout: 20000, interval: 250 });
    await speaker(page, 'the dashboard heard', (l) => l > 30);
    // A second answer is refused with the reason.
    const again = await page.evaluate(async () => {
      const res = await fetch('/api/call/whep', { method: 'POST', headers: { 'content-type': 'application/sdp' }, body: 'v=0\r\n' });
      return { status: res.status, text: await res.text() };
    });
    assert.deepEqual(again, { status: 409, text: 'Answered at admin (browser)' });
    const deleted = await page.evaluate(async (location) => (await fetch(location, { method: 'DELETE' })).status, answered.location);
    assert.equal(deleted, 200);
    await expectHidden(page, '#door-ring');
    const phases = await page.evaluate(() => window.__events.map((e) => e.phase));
    for (const want of ['Ringing', 'Talking']) assert.ok(phases.includes(want), phases.join(' '));
    await eventually('the stream says the call ended', async () =>
      assert.equal(await page.evaluate(() => window.__events.at(-1).phase), 'Idle'));
    const talker = await page.evaluate(() => window.__events.find((e) => e.phase === 'Talking').talker);
    assert.equal(String(talker), answered.talker);
    await page.evaluate(() => {
      window.__es.close();
      window.__dashboard.close();
    });
  });

  it('on plain HTTP from another machine the panel links to HTTPS instead of answering', async () => {
    const port = new URL(env.url).port;
    const far = `http://door.test:${port}`;
    const context = await env.browser.newContext();
    try {
      const page = await context.newPage();
      await login(page, far, STRONG);
      assert.equal(await page.evaluate(() => window.isSecureContext), false);
      await ring();
      await expectVisible(page, '#ring-insecure');
      await expectText(page, '#ring-insecure', /only to secure pages/);
      await expectText(page, '#ring-https', 'Turn on HTTPS in Network Setting > Basic.');
      assert.equal(await page.getAttribute('#ring-https', 'href'), '/network/basic');
      await expectHidden(page, '#answer-call');
      // Reject and Unlock need no microphone.
      await expectVisible(page, '#reject-call');
      await expectVisible(page, '#ring-unlock');
      await shot(page, 'ring-insecure');
      await idle();
    } finally {
      await context.close();
    }
  });
});
