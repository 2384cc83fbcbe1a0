//! Local Setting > Video & Audio (manual 4.2), and the door camera's source.
//! Confirm saves the page in one transaction and it takes effect at once,
//! without a restart: the live preview on the page shows it. With an RTSP
//! camera the stream and picture are the camera's own business, so those
//! sections are not offered (the page says so instead).
//!
//! Audio is G.711 μ-law to the viewers. The manual's Sensor Sensitivity is
//! not shown as the built-in camera has no light sensor to trigger.

use leptos::prelude::*;

use crate::{
    api,
    components::{
        form::{Check, Field, Select, SettingsActions, SettingsPage, Slider, WriteOnlyPassword},
        live_view::LiveView,
        notice::loaded,
    },
    model::{
        mail::PasswordUpdate,
        video::{
            size_label, AudioSettings, BacklightMode, CameraKind, CameraSettings, DayNightMode,
            MainFormat, PictureSettings, RtspTransport, SceneMode, StreamSettings, SubFormat,
            VideoPage, VideoSettings, VideoStandard, MAIN_BITRATES, SUB_BITRATES,
        },
    },
};

#[component]
pub fn VideoAudioPage() -> impl IntoView {
    view! {
        <h1>"Video & Audio"</h1>
        {loaded(api::video_settings, |p| view! { <VideoForm saved=p /> })}
    }
}

/// One stream's fields.
#[derive(Clone, Copy, Default)]
struct StreamForm {
    format: RwSignal<String>,
    fps: RwSignal<String>,
    bitrate: RwSignal<String>,
}

impl StreamForm {
    fn fill(&self, format: &str, fps: u8, bitrate: u32) {
        self.format.set(format.to_string());
        self.fps.set(fps.to_string());
        self.bitrate.set(bitrate.to_string());
    }

    fn read<F>(
        &self,
        parse: fn(&str) -> Option<F>,
        default: StreamSettings<F>,
    ) -> StreamSettings<F> {
        StreamSettings {
            format: parse(&self.format.get()).unwrap_or(default.format),
            fps: self.fps.get().parse().unwrap_or(0),
            bitrate_kbps: self.bitrate.get().parse().unwrap_or(0),
        }
    }

    fn track(&self) {
        self.format.track();
        self.fps.track();
        self.bitrate.track();
    }
}

#[derive(Clone, Copy, Default)]
struct Form {
    kind: RwSignal<String>,
    url: RwSignal<String>,
    user: RwSignal<String>,
    password: RwSignal<String>,
    clear_password: RwSignal<bool>,
    password_set: RwSignal<bool>,
    transport: RwSignal<String>,
    standard: RwSignal<String>,
    main: StreamForm,
    sub: StreamForm,
    scene: RwSignal<String>,
    day_night: RwSignal<String>,
    backlight: RwSignal<String>,
    brightness: RwSignal<u8>,
    contrast: RwSignal<u8>,
    hue: RwSignal<u8>,
    saturation: RwSignal<u8>,
    gamma: RwSignal<u8>,
    gain: RwSignal<u8>,
    mirror: RwSignal<bool>,
    flip: RwSignal<bool>,
    audio: RwSignal<bool>,
    mic_volume: RwSignal<u8>,
    beep_volume: RwSignal<u8>,
}

impl Form {
    fn new(page: &VideoPage) -> Self {
        let f = Self::default();
        f.password_set.set(page.password_set);
        f.fill(&page.settings);
        f
    }

    fn fill(&self, s: &VideoSettings) {
        self.kind.set(s.camera.kind.key().into());
        self.url.set(s.camera.url.clone());
        self.user.set(s.camera.user.clone());
        self.password.set(String::new());
        self.clear_password.set(false);
        self.transport.set(s.camera.transport.key().into());
        self.standard.set(s.standard.key().into());
        self.main
            .fill(s.main.format.key(), s.main.fps, s.main.bitrate_kbps);
        self.sub
            .fill(s.sub.format.key(), s.sub.fps, s.sub.bitrate_kbps);
        let p = &s.picture;
        self.scene.set(p.scene.key().into());
        self.day_night.set(p.day_night.key().into());
        self.backlight.set(p.backlight.key().into());
        self.brightness.set(p.brightness);
        self.contrast.set(p.contrast);
        self.hue.set(p.hue);
        self.saturation.set(p.saturation);
        self.gamma.set(p.gamma);
        self.gain.set(p.gain);
        self.mirror.set(p.mirror);
        self.flip.set(p.flip);
        self.audio.set(s.audio.enabled);
        self.mic_volume.set(s.audio.mic_volume);
        self.beep_volume.set(s.audio.beep_volume);
    }

    fn built_in(&self) -> bool {
        CameraKind::from_key(&self.kind.get()) != Some(CameraKind::Rtsp)
    }

    fn standard(&self) -> VideoStandard {
        VideoStandard::from_key(&self.standard.get()).unwrap_or_default()
    }

    fn settings(&self) -> VideoSettings {
        let d = VideoSettings::default();
        VideoSettings {
            camera: CameraSettings {
                kind: CameraKind::from_key(&self.kind.get()).unwrap_or_default(),
                url: self.url.get().trim().to_string(),
                user: self.user.get().trim().to_string(),
                transport: RtspTransport::from_key(&self.transport.get()).unwrap_or_default(),
            },
            standard: self.standard(),
            main: self.main.read(MainFormat::from_key, d.main),
            sub: self.sub.read(SubFormat::from_key, d.sub),
            picture: PictureSettings {
                scene: SceneMode::from_key(&self.scene.get()).unwrap_or_default(),
                day_night: DayNightMode::from_key(&self.day_night.get()).unwrap_or_default(),
                backlight: BacklightMode::from_key(&self.backlight.get()).unwrap_or_default(),
                brightness: self.brightness.get(),
                contrast: self.contrast.get(),
                hue: self.hue.get(),
                saturation: self.saturation.get(),
                gamma: self.gamma.get(),
                gain: self.gain.get(),
                mirror: self.mirror.get(),
                flip: self.flip.get(),
            },
            audio: AudioSettings {
                enabled: self.audio.get(),
                mic_volume: self.mic_volume.get(),
                beep_volume: self.beep_volume.get(),
            },
        }
    }

    fn password_update(&self) -> PasswordUpdate {
        PasswordUpdate::from_form(
            self.password.get_untracked(),
            self.clear_password.get_untracked(),
        )
    }

    fn errors(&self) -> Vec<(&'static str, String)> {
        let mut errors = self.settings().validate();
        if self.password.get().chars().count() > crate::model::video::MAX_CREDENTIAL {
            errors.push(("camera-password", "At most 64 characters".into()));
        }
        errors
    }

    fn track(&self) {
        for s in [
            self.kind,
            self.url,
            self.user,
            self.password,
            self.transport,
            self.standard,
            self.scene,
            self.day_night,
            self.backlight,
        ] {
            s.track();
        }
        self.main.track();
        self.sub.track();
    }
}

fn fps_options(standard: VideoStandard) -> Vec<(String, String)> {
    (1..=standard.max_fps())
        .map(|n| (n.to_string(), n.to_string()))
        .collect()
}

fn bitrate_options(list: &[u32]) -> Vec<(String, String)> {
    list.iter()
        .map(|b| (b.to_string(), format!("{b} Kbps")))
        .collect()
}

#[component]
fn VideoForm(saved: VideoPage) -> impl IntoView {
    let form = Form::new(&saved);
    let status = RwSignal::new(Some(saved.status.clone()));
    let page = SettingsPage::new(move || form.track());
    let SettingsPage {
        message, errors, ..
    } = page;
    let error_for = move |field: &'static str| errors.signal(field, move || form.errors());

    let confirm = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        message.set(None);
        if !form.errors().is_empty() {
            return;
        }
        page.save(
            api::save_video_settings(form.settings(), form.password_update()),
            move |p| {
                form.fill(&p.settings);
                form.password_set.set(p.password_set);
                status.set(Some(p.status));
                "Saved: in effect now.".into()
            },
        );
    };
    let refresh = move |()| {
        page.refresh(api::video_settings(), move |p| {
            form.fill(&p.settings);
            form.password_set.set(p.password_set);
            status.set(Some(p.status));
        })
    };
    let default = move |()| {
        page.defaults("Confirm", || {
            let keep = form.password_set.get_untracked();
            form.fill(&VideoSettings::default());
            form.password_set.set(keep);
        })
    };

    let main_formats = move || {
        let standard = form.standard();
        let options: Vec<(String, String)> = MainFormat::ALL
            .iter()
            .map(|f| (f.key().into(), size_label(f.label(), f.size(standard))))
            .collect();
        options
    };
    let sub_formats = move || {
        let standard = form.standard();
        let options: Vec<(String, String)> = SubFormat::ALL
            .iter()
            .map(|f| (f.key().into(), size_label(f.label(), f.size(standard))))
            .collect();
        options
    };

    view! {
        <form id="video-form" class="settings-stack" on:submit=confirm novalidate>
            <section class="card wide" aria-labelledby="camera">
                <h2 id="camera">"Camera"</h2>
                <div class="camera-layout">
                    <div>
                        <Select id="camera-kind" label="Camera" options=CameraKind::options() value=form.kind />
                        <Show when=move || !form.built_in()>
                            <Field id="camera-url" label="Address" value=form.url error=error_for("camera-url")>
                                <p class="hint">"e.g. rtsp://192.168.1.108:554/cam/realmonitor?channel=1&subtype=0"</p>
                            </Field>
                            <div class="grid-2">
                                <Field id="camera-user" label="User Name" value=form.user error=error_for("camera-user") />
                                <WriteOnlyPassword
                                    id="camera-password"
                                    label="Password"
                                    value=form.password
                                    stored=form.password_set
                                    clear=form.clear_password
                                    clear_id="camera-clear-password"
                                    error=error_for("camera-password")
                                    destination="the Address's host or port"
                                />
                            </div>
                            <Select id="camera-transport" label="Transport" options=RtspTransport::options() value=form.transport />
                        </Show>
                    </div>
                    <LiveView source="door" camera=status />
                </div>
            </section>
            <Show
                when=move || form.built_in()
                fallback=move || view! {
                    <section class="card wide" aria-labelledby="video-rtsp">
                        <h2 id="video-rtsp">"Video"</h2>
                        <p id="camera-controls" class="hint">
                            "Video format, frame rate, bit rate and the picture are set on the RTSP camera itself; this device relays its stream as it comes"
                            {move || {
                                match status.get() {
                                    Some(s) if s.width != 0 => format!(" ({}x{}).", s.width, s.height),
                                    _ => ".".to_string(),
                                }
                            }}
                        </p>
                    </section>
                }
            >
                <section class="card wide" aria-labelledby="video">
                    <h2 id="video">"Video"</h2>
                    <div class="grid-2">
                        <Select id="video-standard" label="Video Standard" options=VideoStandard::options() value=form.standard />
                    </div>
                    <div class="grid-2">
                        <fieldset class="group">
                            <legend>"Main Stream"</legend>
                            {move || view! { <Select id="main-format" label="Video Format" options=main_formats() value=form.main.format /> }}
                            {move || view! { <Select id="main-fps" label="Frame Rate" options=fps_options(form.standard()) value=form.main.fps /> }}
                            <p class="field-error" role="alert">{move || error_for("main-fps").get()}</p>
                            <Select id="main-bitrate" label="Bit Rate" options=bitrate_options(MAIN_BITRATES) value=form.main.bitrate />
                        </fieldset>
                        <fieldset class="group">
                            <legend>"Sub Stream"</legend>
                            {move || view! { <Select id="sub-format" label="Video Format" options=sub_formats() value=form.sub.format /> }}
                            {move || view! { <Select id="sub-fps" label="Frame Rate" options=fps_options(form.standard()) value=form.sub.fps /> }}
                            <p class="field-error" role="alert">{move || error_for("sub-fps").get()}</p>
                            <Select id="sub-bitrate" label="Bit Rate" options=bitrate_options(SUB_BITRATES) value=form.sub.bitrate />
                        </fieldset>
                    </div>
                </section>
                <section class="card wide" aria-labelledby="conditions">
                    <h2 id="conditions">"Conditions"</h2>
                    <div class="grid-2">
                        <Select id="scene-mode" label="Scene Mode" options=SceneMode::options() value=form.scene />
                        <Select id="day-night-mode" label="Day/Night Mode" options=DayNightMode::options() value=form.day_night />
                        <Select id="backlight-mode" label="BackLight Mode" options=BacklightMode::options() value=form.backlight />
                    </div>
                    <p class="hint">"Automatic modes follow the device's clock: day from 07:00 to 19:00."</p>
                </section>
                <section class="card wide" aria-labelledby="picture">
                    <h2 id="picture">"Picture"</h2>
                    <div class="grid-2">
                        <Slider id="brightness" label="Brightness" value=form.brightness />
                        <Slider id="contrast" label="Contrast" value=form.contrast />
                        <Slider id="hue" label="Hue" value=form.hue />
                        <Slider id="saturation" label="Saturation" value=form.saturation />
                        <Slider id="gamma" label="Gamma" value=form.gamma />
                        <Slider id="gain" label="Gain" value=form.gain />
                        <Check id="mirror" label="Mirror" checked=form.mirror />
                        <Check id="flip" label="Flip" checked=form.flip />
                    </div>
                </section>
            </Show>
            <section class="card wide" aria-labelledby="audio">
                <h2 id="audio">"Audio"</h2>
                <Check id="audio-enable" label="Audio Control: Enable" checked=form.audio />
                <Show
                    when=move || form.built_in()
                    fallback=move || view! {
                        <p id="camera-audio" class="hint">
                            {move || match status.get() {
                                Some(s) if !s.audio.is_empty() => format!("From the camera: {}.", s.audio),
                                _ => "From the camera, when it sends G.711 (PCMU or PCMA).".to_string(),
                            }}
                        </p>
                    }
                >
                    <div class="grid-2">
                        <Slider id="mic-volume" label="Mic Volume" value=form.mic_volume />
                        <Slider id="beep-volume" label="Beep Volume" value=form.beep_volume />
                    </div>
                    <p class="hint">"The built-in camera's microphone hears a test tone; its beep sounds every 2 s."</p>
                </Show>
            </section>
            <SettingsActions
                id="video"
                submit="Confirm"
                on_default=Callback::new(default)
                on_refresh=Callback::new(refresh)
                settings=page
            />
        </form>
    }
}
