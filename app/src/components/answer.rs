//! Answering the door in the browser (issue 19): a door call rings in
//! every signed-in page, with the door's live picture, a ring tone, a
//! flashing title and (when allowed) a desktop notification. Answer makes
//! this browser the call's talker over WebRTC (its microphone to the
//! door's speaker, the door's camera and microphone here; the monitors are
//! cancelled); Reject ends the call for everyone; Unlock opens the door
//! without answering.

use leptos::{prelude::*, task::spawn_local};

#[cfg(any(feature = "hydrate", test))]
use crate::model::network::NetworkSettings;
use crate::{
    api,
    components::{form::Check, hydration::follow, live_view::LiveView},
    model::intercom::{CallPhase, CallStatus},
};

/// What this browser does in the call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mine {
    /// Not answered here.
    No,
    Connecting,
    Talking,
}

/// The door call's status, followed once per page (one long poll: a
/// browser holds only six connections to the device) and shared by the
/// call panel and the simulated door station.
#[derive(Clone, Copy)]
pub struct CallFeed(pub RwSignal<CallStatus>);

impl CallFeed {
    /// Starts following; put in the page's context by the layout.
    pub fn start() -> Self {
        // Version 0: the first answer comes at once.
        let status = RwSignal::new(CallStatus::default());
        follow(status, |s| s.version, api::call_status);
        Self(status)
    }
}

#[component]
pub fn DoorRing() -> impl IntoView {
    let status = use_context::<CallFeed>().unwrap_or_else(CallFeed::start).0;
    let mine = RwSignal::new(Mine::No);
    // This browser's talker number while it talks (see CallStatus::talker).
    let my_talker = RwSignal::new(0u64);
    let muted = RwSignal::new(false);
    let push_to_talk = RwSignal::new(false);
    let holding = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    let unlocked = RwSignal::new(None::<String>);
    let taken = RwSignal::new(None::<String>);
    // Known in the browser only: the server renders the secure case.
    let secure = RwSignal::new(true);
    let https_link = RwSignal::new(None::<(String, String)>);
    #[cfg(feature = "hydrate")]
    let talk = client::Talk::new();
    let ringing = move || status.with(|s| s.phase == CallPhase::Ringing);
    let talking = move || status.with(|s| s.phase == CallPhase::Talking);
    let shown = move || ringing() || talking() || mine.get() != Mine::No;
    #[cfg(feature = "hydrate")]
    client::ring(Signal::derive(ringing));
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| {
        if !client::secure() {
            secure.set(false);
            client::https_link(https_link);
        }
    });
    Effect::new(move |_| {
        push_to_talk.track();
        holding.set(false);
    });
    // The microphone sends while not muted and, with push-to-talk, while
    // the talk button is held.
    Effect::new(move |_| {
        let _open = !muted.get() && (!push_to_talk.get() || holding.get());
        #[cfg(feature = "hydrate")]
        talk.mute(!_open);
    });
    // The call is over, or someone took the talk over: this browser's part
    // ends.
    Effect::new(move |_| {
        let s = status.get();
        let over = s.phase != CallPhase::Ringing && s.phase != CallPhase::Talking;
        let others = mine.get_untracked() == Mine::Talking && s.talker != my_talker.get_untracked();
        if (over || others) && mine.get_untracked() != Mine::No {
            if others && !over {
                taken.set(Some(format!("Taken over by {}.", s.answered_by)));
            }
            mine.set(Mine::No);
            #[cfg(feature = "hydrate")]
            talk.close();
        }
        if over {
            taken.set(None);
        }
    });
    let start = move |_take_over: bool| {
        error.set(None);
        taken.set(None);
        mine.set(Mine::Connecting);
        #[cfg(feature = "hydrate")]
        spawn_local(async move {
            match talk.answer(_take_over).await {
                Ok(n) => {
                    my_talker.set(n);
                    mine.set(Mine::Talking);
                    talk.mute(muted.get_untracked() || push_to_talk.get_untracked());
                }
                Err(e) => {
                    talk.close();
                    mine.set(Mine::No);
                    error.set(Some(e));
                }
            }
        });
    };
    let reject = move |_| {
        error.set(None);
        spawn_local(async move {
            if let Err(e) = api::reject_call().await {
                error.set(Some(e.to_string()));
            }
        });
    };
    let hang_up = move |_| {
        error.set(None);
        #[cfg(feature = "hydrate")]
        talk.close();
        mine.set(Mine::No);
        spawn_local(async move {
            if let Err(e) = api::hang_up().await {
                error.set(Some(e.to_string()));
            }
        });
    };
    let unlock = move |_| {
        error.set(None);
        spawn_local(async move {
            match api::unlock(crate::model::access::UnlockVia::Ui).await {
                Ok(r) => match r.refused {
                    None => unlocked.set(Some("The door is open.".into())),
                    Some(why) => error.set(Some(why.label().into())),
                },
                Err(e) => error.set(Some(e.to_string())),
            }
        });
    };
    let state = move || {
        let s = status.get();
        match (s.phase, mine.get()) {
            (_, Mine::Connecting) => "Connecting…".to_string(),
            (_, Mine::Talking) => "Talking with the door.".to_string(),
            (CallPhase::Ringing, _) => format!("The door calls {}.", s.callee),
            (CallPhase::Talking, _) => format!("Answered at {}.", s.answered_by),
            _ => "The call ended.".to_string(),
        }
    };
    // The door's picture before answering; once someone else talks, only
    // with Watch Calls Answered Elsewhere.
    let preview = move || ringing() || (talking() && status.with(|s| s.watch_answered));
    let hold = move |on: bool| holding.set(on);
    view! {
        <section
            id="door-ring"
            class="door-ring card"
            aria-labelledby="door-ring-title"
            role="region"
            hidden=move || !shown()
        >
            <h2 id="door-ring-title">"Door Call"</h2>
            <p id="ring-state" role="status">{state}</p>
            <p id="ring-taken" class="form-message warn" role="status" hidden=move || taken.get().is_none()>
                {move || taken.get().unwrap_or_default()}
            </p>
            <Show
                when=move || mine.get() == Mine::No
                fallback=move || {
                    view! {
                        <video
                            id="talk-video"
                            class="live-video"
                            autoplay=true
                            playsinline=true
                        ></video>
                    }
                }
            >
                <Show when=preview>
                    <LiveView source="door" />
                </Show>
            </Show>
            <p id="ring-insecure" class="form-message warn" hidden=move || secure.get()>
                "Browsers give the microphone only to secure pages, so this page cannot talk to the door. "
                {move || match https_link.get() {
                    Some((href, text)) => view! { <a id="ring-https" href=href>{text}</a> }.into_any(),
                    None => view! { <span>"…"</span> }.into_any(),
                }}
            </p>
            <div class="ring-actions">
                <Show when=move || ringing() && mine.get() == Mine::No>
                    <Show when=move || secure.get()>
                        <button type="button" id="answer-call" class="primary" on:click=move |_| start(false)>
                            "Answer"
                        </button>
                    </Show>
                    <button type="button" id="reject-call" class="danger" on:click=reject>
                        "Reject"
                    </button>
                </Show>
                <Show when=move || talking() && mine.get() == Mine::No && secure.get()>
                    <button type="button" id="take-over" class="primary" on:click=move |_| start(true)>
                        "Take Over"
                    </button>
                </Show>
                <Show when=move || mine.get() == Mine::Talking>
                    <button type="button" id="ring-hang-up" class="danger" on:click=hang_up>
                        "Hang Up"
                    </button>
                    <button
                        type="button"
                        id="ring-mute"
                        class="secondary"
                        aria-pressed=move || if muted.get() { "true" } else { "false" }
                        on:click=move |_| muted.update(|m| *m = !*m)
                    >
                        {move || if muted.get() { "Unmute" } else { "Mute" }}
                    </button>
                    <Show when=move || push_to_talk.get()>
                        <button
                            type="button"
                            id="ring-hold"
                            class="primary hold-to-talk"
                            aria-pressed=move || if holding.get() { "true" } else { "false" }
                            on:pointerdown=move |_| hold(true)
                            on:pointerup=move |_| hold(false)
                            on:pointerleave=move |_| hold(false)
                            on:pointercancel=move |_| hold(false)
                            on:keydown=move |ev| {
                                if matches!(ev.key().as_str(), " " | "Enter") {
                                    ev.prevent_default();
                                    hold(true);
                                }
                            }
                            on:keyup=move |_| hold(false)
                            on:blur=move |_| hold(false)
                        >
                            {move || if holding.get() { "Talking…" } else { "Hold to Talk" }}
                        </button>
                    </Show>
                </Show>
                <button type="button" id="ring-unlock" class="secondary" on:click=unlock>
                    "Unlock"
                </button>
            </div>
            <Show when=move || mine.get() == Mine::Talking>
                <div class="ring-ptt">
                    <Check id="ring-ptt" label="Push to Talk" checked=push_to_talk />
                    <p class="hint">"Where the door echoes your voice: the microphone sends only while you hold Hold to Talk (or its Space key)."</p>
                </div>
            </Show>
            <p id="ring-sound" class="hint" hidden=true>
                "Click anywhere on the page to hear the door ring."
            </p>
            <p class="form-message ok" role="status" hidden=move || unlocked.get().is_none()>
                {move || unlocked.get().unwrap_or_default()}
            </p>
            <p class="form-message error" id="ring-error" role="alert" hidden=move || error.get().is_none()>
                {move || error.get().unwrap_or_default()}
            </p>
        </section>
    }
}

/// Where a page at `host` (the browser's host name) and `path` is served
/// securely: the device's HTTPS address from Network Setting > Basic (its
/// listen address, or `host` when it listens on all), or that page when
/// HTTPS is off. (link, text)
#[cfg(any(feature = "hydrate", test))]
fn secure_link(n: &NetworkSettings, host: &str, path: &str) -> (String, String) {
    if !n.https {
        return (
            "/network/basic".into(),
            "Turn on HTTPS in Network Setting > Basic.".into(),
        );
    }
    let host = match n.listen_address.parse::<std::net::IpAddr>() {
        Ok(ip) if ip.is_unspecified() => host.to_string(),
        Ok(std::net::IpAddr::V6(v6)) => format!("[{v6}]"),
        _ => n.listen_address.clone(),
    };
    let port = match n.https_port {
        443 => String::new(),
        p => format!(":{p}"),
    };
    let url = format!("https://{host}{port}{path}");
    (url.clone(), format!("Open {url} to answer here."))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn net(listen: &str, https: bool, port: u16) -> NetworkSettings {
        NetworkSettings {
            listen_address: listen.into(),
            http_port: 80,
            https,
            https_port: port,
        }
    }

    #[test]
    fn the_secure_link_is_the_devices_https_address() {
        let link = |n, host| secure_link(&n, host, "/log/call").0;
        assert_eq!(
            link(net("0.0.0.0", true, 443), "door.lan"),
            "https://door.lan/log/call"
        );
        assert_eq!(
            link(net("::", true, 8443), "door.lan"),
            "https://door.lan:8443/log/call"
        );
        assert_eq!(
            link(net("192.168.1.108", true, 443), "door.lan"),
            "https://192.168.1.108/log/call"
        );
        assert_eq!(
            link(net("fd00::5", true, 443), "x"),
            "https://[fd00::5]/log/call"
        );
        let (href, text) = secure_link(&net("0.0.0.0", false, 443), "door.lan", "/");
        assert_eq!(href, "/network/basic");
        assert!(text.contains("Network Setting > Basic"), "{text}");
    }
}

#[cfg(feature = "hydrate")]
mod client {
    use leptos::prelude::*;
    use wasm_bindgen::{JsCast, JsValue};
    use wasm_bindgen_futures::JsFuture;
    use web_sys::{
        MediaStream, MediaStreamConstraints, MediaStreamTrack, RtcPeerConnection,
        RtcRtpTransceiverDirection, RtcRtpTransceiverInit,
    };

    use crate::{
        api,
        components::{
            hydration::sleep_ms,
            webrtc::{apply_answer, gathered_offer, js_error},
        },
    };

    /// This browser's side of an answered call.
    #[derive(Clone, Copy)]
    pub struct Talk {
        pc: StoredValue<Option<RtcPeerConnection>, LocalStorage>,
        mic: StoredValue<Option<MediaStream>, LocalStorage>,
    }

    impl Talk {
        pub fn new() -> Self {
            Self {
                pc: StoredValue::new_local(None),
                mic: StoredValue::new_local(None),
            }
        }

        /// Answers: the microphone (browsers give it to secure pages only),
        /// a connection that sends it and receives the door, the device's
        /// answer.
        pub async fn answer(&self, take_over: bool) -> Result<u64, String> {
            let window = web_sys::window().ok_or("no window")?;
            let devices = window.navigator().media_devices().map_err(|_| insecure())?;
            let constraints = MediaStreamConstraints::new();
            constraints.set_audio(&JsValue::TRUE);
            let mic: MediaStream = JsFuture::from(
                devices
                    .get_user_media_with_constraints(&constraints)
                    .map_err(js_error)?,
            )
            .await
            .map_err(|e| format!("No microphone: {}", js_error(e)))?
            .unchecked_into();
            self.mic.set_value(Some(mic.clone()));
            let pc = RtcPeerConnection::new().map_err(js_error)?;
            self.pc.set_value(Some(pc.clone()));
            for track in mic.get_audio_tracks() {
                let track: MediaStreamTrack = track.unchecked_into();
                pc.add_track_0(&track, &mic);
            }
            let init = RtcRtpTransceiverInit::new();
            init.set_direction(RtcRtpTransceiverDirection::Recvonly);
            pc.add_transceiver_with_str_and_init("video", &init);
            let sdp = gathered_offer(&pc).await?;
            let answer = api::answer_call(sdp, take_over)
                .await
                .map_err(|e| match e {
                    crate::error::ApiError::Invalid { message, .. } => message,
                    e => e.to_string(),
                })?;
            apply_answer(&pc, &answer.sdp).await?;
            // What the door sends: each receiver's track, picture and sound
            // in one stream for the <video>.
            let shown = MediaStream::new().map_err(js_error)?;
            for r in pc.get_receivers() {
                let r: web_sys::RtcRtpReceiver = r.unchecked_into();
                shown.add_track(&r.track());
            }
            // The <video> of the talk exists once the panel switched.
            for _ in 0..80 {
                let found = web_sys::window()
                    .and_then(|w| w.document())
                    .and_then(|d| d.get_element_by_id("talk-video"))
                    .and_then(|e| e.dyn_into::<web_sys::HtmlVideoElement>().ok());
                if let Some(v) = found {
                    v.set_src_object(Some(&shown));
                    break;
                }
                sleep_ms(25).await;
            }
            Ok(answer.talker)
        }

        pub fn mute(&self, muted: bool) {
            if let Some(Some(mic)) = self.mic.try_get_value() {
                for t in mic.get_audio_tracks() {
                    t.unchecked_into::<MediaStreamTrack>().set_enabled(!muted);
                }
            }
        }

        /// Ends this browser's part: the connection and the microphone.
        pub fn close(&self) {
            if let Some(Some(pc)) = self.pc.try_get_value() {
                pc.close();
            }
            if let Some(Some(mic)) = self.mic.try_get_value() {
                for t in mic.get_tracks() {
                    t.unchecked_into::<MediaStreamTrack>().stop();
                }
            }
            self.pc.try_set_value(None);
            self.mic.try_set_value(None);
        }
    }

    /// Whether the browser gives this page a microphone at all: only
    /// secure pages (HTTPS, or the machine itself) get one.
    pub fn secure() -> bool {
        web_sys::window().is_some_and(|w| w.is_secure_context())
    }

    /// Why there is no microphone.
    fn insecure() -> String {
        if secure() {
            "This browser has no microphone access".into()
        } else {
            "Browsers give the microphone only to secure pages: open this page over HTTPS".into()
        }
    }

    /// Where this page is served securely (Network Setting > Basic): the
    /// device's HTTPS address, or the page to turn HTTPS on.
    pub fn https_link(link: RwSignal<Option<(String, String)>>) {
        leptos::task::spawn_local(async move {
            let Ok(page) = api::network().await else {
                return;
            };
            let location = web_sys::window().map(|w| w.location());
            let host = location
                .as_ref()
                .and_then(|l| l.hostname().ok())
                .unwrap_or_default();
            let path = location
                .as_ref()
                .and_then(|l| l.pathname().ok())
                .unwrap_or_else(|| "/".into());
            link.set(Some(super::secure_link(&page.settings, &host, &path)));
        });
    }

    /// While `ringing`: a two-tone ring (Web Audio; a page never clicked
    /// cannot sound, and says so), the title flashing, and a desktop
    /// notification when the user allowed them.
    pub fn ring(ringing: Signal<bool>) {
        let ctx = StoredValue::new_local(None::<web_sys::AudioContext>);
        Effect::new(move |_| {
            if !ringing.get() {
                return;
            }
            leptos::task::spawn_local(async move {
                let document = web_sys::window().and_then(|w| w.document());
                let title = document.as_ref().map(|d| d.title()).unwrap_or_default();
                notify();
                let mut n = 0u32;
                while ringing.try_get_untracked() == Some(true) {
                    if let Some(d) = &document {
                        d.set_title(if n.is_multiple_of(2) {
                            "🔔 Door call"
                        } else {
                            &title
                        });
                    }
                    if n.is_multiple_of(2) {
                        beep(ctx);
                    }
                    n += 1;
                    sleep_ms(1000).await;
                }
                if let Some(d) = &document {
                    d.set_title(&title);
                }
            });
        });
    }

    fn notify() {
        if web_sys::Notification::permission() == web_sys::NotificationPermission::Granted {
            let _ = web_sys::Notification::new("Door call: someone is at the door");
        }
    }

    /// One ring: two short tones.
    fn beep(ctx: StoredValue<Option<web_sys::AudioContext>, LocalStorage>) {
        let ctx = match ctx.try_get_value().flatten() {
            Some(c) => c,
            None => {
                let Ok(c) = web_sys::AudioContext::new() else {
                    return;
                };
                ctx.try_set_value(Some(c.clone()));
                c
            }
        };
        let hint = web_sys::window()
            .and_then(|w| w.document())
            .and_then(|d| d.get_element_by_id("ring-sound"));
        let suspended = ctx.state() == web_sys::AudioContextState::Suspended;
        if let Some(h) = hint {
            if suspended {
                let _ = h.remove_attribute("hidden");
            } else {
                let _ = h.set_attribute("hidden", "");
            }
        }
        if suspended {
            // Allowed to sound after the next click.
            let _ = ctx.resume();
            return;
        }
        let now = ctx.current_time();
        for (i, hz) in [660.0f32, 880.0].into_iter().enumerate() {
            let (Ok(osc), Ok(gain)) = (ctx.create_oscillator(), ctx.create_gain()) else {
                return;
            };
            osc.frequency().set_value(hz);
            gain.gain().set_value(0.2);
            let _ = osc.connect_with_audio_node(&gain);
            let _ = gain.connect_with_audio_node(&ctx.destination());
            let start = now + i as f64 * 0.3;
            let _ = osc.start_with_when(start);
            let _ = osc.stop_with_when(start + 0.25);
        }
    }
}
