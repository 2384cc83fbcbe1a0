// RTSP out relayed to a browser as go2rtc or Frigate would: Janus's
// streaming plugin (Debian's janus) pulls vto's door camera over RTSP/UDP
// with a Viewer account's Digest credentials and serves it to Chromium over
// WebRTC; the page (a plain RTCPeerConnection and Janus's HTTP API) shows
// the camera's picture at its size, frames decoding. Janus gathers ICE only
// on a non-loopback interface: a veth pair in the runner's own namespace.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  startLoggedIn,
  pageApi,
  addVeth,
  startJanus,
  waitDecoding,
  TRACK_PEER_CONNECTIONS,
} from '../lib/harness.mjs';
import { eventually } from '../lib/wait.mjs';

const VIEWER = 'relay';
const VIEWER_PASSWORD = 'Gate-Keeper9';

describe('Janus relays the RTSP out to Chromium', { timeout: 120000 }, () => {
  let env;
  let veth;
  let janus;
  before(async () => {
    env = await startLoggedIn();
    veth = await addVeth();
  });
  after(async () => {
    await janus?.kill();
    veth?.remove();
    await env?.close();
  });

  it('shows the door camera at its size, decoding', async () => {
    const { page, vto } = env;
    const added = await pageApi(page, 'add_user', {
      new: { user: VIEWER, password: VIEWER_PASSWORD, role: 'Viewer' },
    });
    assert.equal(added.status, 200, JSON.stringify(added.body));
    const rtsp = vto.stdout().match(/vto rtsp on (\S+)/)?.[1];
    assert.ok(rtsp, `vto prints its RTSP address: ${vto.stdout()}`);
    janus = await startJanus({
      rtspUrl: `rtsp://${rtsp}/cam/realmonitor?channel=1&subtype=0`,
      user: VIEWER,
      password: VIEWER_PASSWORD,
      iface: veth.iface,
    });
    // Janus pulled the stream: its session is listed as the Viewer's.
    await eventually('Janus listed under Online Users', async () => {
      const { body } = await pageApi(page, 'online_users');
      return body?.entries?.some((e) => e.door === 'RTSP') || false;
    }, { timeout: 20000 }).catch((e) => {
      throw new Error(`${e.message}\n--- janus:\n${janus.logs().slice(-2000)}\n--- vto:\n${vto.logs().slice(-2000)}`);
    });

    // The player page: Janus's own origin, so its API needs no CORS. With
    // a media permission Chromium gathers host candidates (no mDNS names).
    const origin = new URL(janus.api).origin;
    await page.context().grantPermissions(['camera', 'microphone'], { origin });
    await page.context().addInitScript(TRACK_PEER_CONNECTIONS);
    await page.goto(`${janus.api}/info`);
    await page.evaluate(async (api) => {
      const tx = () => Math.random().toString(36).slice(2);
      const post = async (path, body) => {
        const res = await fetch(api + path, { method: 'POST', body: JSON.stringify({ transaction: tx(), ...body }) });
        return res.json();
      };
      const session = (await post('', { janus: 'create' })).data.id;
      const handle = (await post(`/${session}`, { janus: 'attach', plugin: 'janus.plugin.streaming' })).data.id;
      await post(`/${session}/${handle}`, { janus: 'message', body: { request: 'watch', id: 1 } });
      // Janus offers in an event on the session's long poll.
      let offer;
      for (let i = 0; i < 20 && !offer; i += 1) {
        const ev = await (await fetch(`${api}/${session}?maxev=1&rid=${Date.now()}`)).json();
        if (ev.jsep) offer = ev.jsep;
      }
      if (!offer) throw new Error('no offer from Janus');
      const pc = new RTCPeerConnection();
      const video = document.createElement('video');
      video.id = 'door';
      video.muted = true;
      video.autoplay = true;
      document.body.append(video);
      pc.ontrack = (e) => {
        video.srcObject = e.streams[0] ?? new MediaStream([e.track]);
      };
      await pc.setRemoteDescription(offer);
      await pc.setLocalDescription(await pc.createAnswer());
      // Not trickled: the answer carries every candidate.
      await new Promise((res) => {
        if (pc.iceGatheringState === 'complete') res();
        pc.onicegatheringstatechange = () => pc.iceGatheringState === 'complete' && res();
      });
      await post(`/${session}/${handle}`, {
        janus: 'message',
        body: { request: 'start' },
        jsep: { type: 'answer', sdp: pc.localDescription.sdp },
      });
    }, janus.api);

    await page.waitForFunction(
      () => {
        const v = document.querySelector('#door');
        return v && v.videoWidth === 1280 && v.videoHeight === 720;
      },
      null,
      { timeout: 30000 },
    ).catch((e) => {
      throw new Error(`${e.message}\n--- janus:\n${janus.logs().slice(-3000)}`);
    });
    // Frames keep decoding (the count rises), at the camera's size.
    const s = await waitDecoding(page, 1280, 720);
    assert.ok(s.framesDecoded > 10, JSON.stringify(s));
  });
});
