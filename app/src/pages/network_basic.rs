//! Network Setting > Basic (manual 6.1): TCP/IP (where the web server
//! listens; the host's own addresses read-only) and HTTPS with its
//! certificate. Save moves the web server at once and leads the browser to
//! the new address; no restart.

use leptos::{prelude::*, task::spawn_local};

use crate::{
    api,
    components::{
        form::{while_busy, Check, Field, FormMessage, SettingsActions, SettingsPage, Submit},
        hydration::{chosen_file_text, download, load_page, use_hydrated},
        notice::loaded,
    },
    model::{
        network::{
            CertificateInfo, CertificateKind, CertificateUpload, NetworkPage, NetworkSettings,
            MAX_PEM_BYTES,
        },
        system_time::TimeDisplay,
    },
};

#[component]
pub fn NetworkBasicPage() -> impl IntoView {
    view! {
        <h1>"Basic"</h1>
        {loaded(api::network, |p| view! { <NetworkForm page=p /> })}
    }
}

#[derive(Clone, Copy, Default)]
struct Form {
    address: RwSignal<String>,
    http_port: RwSignal<String>,
    https: RwSignal<bool>,
    https_port: RwSignal<String>,
}

impl Form {
    fn fill(&self, s: &NetworkSettings) {
        self.address.set(s.listen_address.clone());
        self.http_port.set(s.http_port.to_string());
        self.https.set(s.https);
        self.https_port.set(s.https_port.to_string());
    }

    fn settings(&self) -> Result<NetworkSettings, (&'static str, String)> {
        let port = |v: RwSignal<String>, id: &'static str| {
            v.get()
                .trim()
                .parse::<u16>()
                .map_err(|_| (id, "Enter a port from 1 to 65535".to_string()))
        };
        Ok(NetworkSettings {
            listen_address: self.address.get().trim().to_string(),
            http_port: port(self.http_port, "http-port")?,
            https: self.https.get(),
            https_port: port(self.https_port, "https-port")?,
        })
    }

    fn errors(&self) -> Vec<(&'static str, String)> {
        match self.settings() {
            Err(e) => vec![e],
            Ok(s) => s.validate(),
        }
    }
}

#[component]
fn NetworkForm(page: NetworkPage) -> impl IntoView {
    let form = Form::default();
    form.fill(&page.settings);
    let shown = RwSignal::new(page);
    let page = SettingsPage::new(move || {
        form.address.track();
        form.http_port.track();
        form.https.track();
        form.https_port.track();
    });
    let SettingsPage {
        message, errors, ..
    } = page;
    let error_for = move |field: &'static str| errors.signal(field, move || form.errors());

    let show = move |p: NetworkPage| {
        form.fill(&p.settings);
        shown.set(p);
    };
    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        message.set(None);
        let Ok(settings) = form.settings() else {
            return;
        };
        if !form.errors().is_empty() {
            return;
        }
        page.save(api::save_network(settings), move |p| {
            let moved = p.moved_to.clone();
            show(p);
            let Some(url) = moved else {
                return "Saved.".into();
            };
            // Browsers keep cookies of http:// and https:// apart: a
            // change of scheme needs a new login.
            let again = if url.starts_with("https:") != is_https_page() {
                " You may have to log in again there."
            } else {
                ""
            };
            let text = format!("Saved. The web server moved: going to {url}\u{2026}{again}");
            set_timeout(
                move || load_page(&url),
                std::time::Duration::from_millis(800),
            );
            text
        });
    };
    let refresh = move |()| page.refresh(api::network(), show);
    let default = move |()| page.defaults("Save", || form.fill(&NetworkSettings::default()));

    view! {
        <section class="card wide" aria-labelledby="tcpip">
            <h2 id="tcpip">"TCP/IP"</h2>
            <HostFacts shown />
            <form id="network-form" on:submit=save novalidate>
                <div class="grid-2">
                    <Field id="listen-address" label="IP Address" value=form.address error=error_for("listen-address")>
                        <p class="hint">"Where the web server listens: 0.0.0.0 (or ::) for every address of the host, or one of them."</p>
                    </Field>
                    <Field id="http-port" label="HTTP Port" kind="number" value=form.http_port error=error_for("http-port") />
                </div>
                <fieldset class="group">
                    <legend>"HTTPS"</legend>
                    <div class="grid-2 align-end">
                        <Check id="https" label="Enable" checked=form.https />
                        <Field id="https-port" label="HTTPS Port" kind="number" value=form.https_port error=error_for("https-port") />
                    </div>
                    <p class="hint">
                        "With HTTPS on, plain HTTP is sent to HTTPS and the login cookie is only sent over HTTPS. Browsers need HTTPS to use the microphone. The first time, the device makes a self-signed certificate for its name and addresses."
                    </p>
                </fieldset>
                <SettingsActions
                    id="network"
                    submit="Save"
                    on_default=Callback::new(default)
                    on_refresh=Callback::new(refresh)
                    settings=page
                />
            </form>
        </section>
        <CertificateCard shown />
    }
}

/// Whether this page was loaded over HTTPS.
fn is_https_page() -> bool {
    #[cfg(feature = "hydrate")]
    {
        web_sys::window()
            .and_then(|w| w.location().protocol().ok())
            .is_some_and(|p| p == "https:")
    }
    #[cfg(not(feature = "hydrate"))]
    {
        false
    }
}

/// The host's own name and addresses (read-only).
#[component]
fn HostFacts(shown: RwSignal<NetworkPage>) -> impl IntoView {
    view! {
        <dl class="facts" id="host-facts">
            <dt>"Host Name"</dt>
            <dd>{move || shown.get().host_name}</dd>
            <dt>"RTSP Port"</dt>
            <dd id="rtsp-port">
                {move || match shown.get().rtsp {
                    Some(r) => format!("{} (on {})", r.port, r.address),
                    None => "Off".to_string(),
                }}
            </dd>
            <dt>"Host Addresses"</dt>
            <dd>
                <ul class="plain-list" id="host-addresses">
                    {move || {
                        shown
                            .get()
                            .host_addresses
                            .into_iter()
                            .map(|a| view! { <li><span class="mono">{a.address}</span> " (" {a.interface} ")"</li> })
                            .collect_view()
                    }}
                </ul>
            </dd>
        </dl>
        <p class="hint">
            "The host's addresses, gateway and DNS are set in its operating system, not here. The RTSP server's address and port are set when vto starts (--rtsp)."
        </p>
    }
}

fn cert_facts(c: CertificateInfo) -> impl IntoView {
    let display = TimeDisplay::default();
    let kind = match c.kind {
        CertificateKind::Generated => "Self-signed, made by the device",
        CertificateKind::Uploaded => "Uploaded",
    };
    view! {
        <dl class="facts" id="certificate-facts">
            <dt>"Certificate"</dt>
            <dd id="certificate-kind">{kind}</dd>
            <dt>"Subject"</dt>
            <dd class="mono">{c.subject}</dd>
            <dt>"Names"</dt>
            <dd id="certificate-names">{c.names.join(", ")}</dd>
            <dt>"Valid"</dt>
            <dd>{format!("{} to {} (UTC)", display.format_date(c.not_before), display.format_date(c.not_after))}</dd>
            <dt>"SHA-256"</dt>
            <dd class="mono fingerprint" id="certificate-fingerprint">{c.fingerprint}</dd>
        </dl>
    }
}

/// The HTTPS certificate: what it is, download it, make a new one or
/// upload one (certificate + private key, PEM).
#[component]
fn CertificateCard(shown: RwSignal<NetworkPage>) -> impl IntoView {
    let hydrated = use_hydrated();
    let message = RwSignal::new(None::<(bool, String)>);
    let cert_error = RwSignal::new(None::<String>);
    let key_error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);

    let download_cert = move |_| {
        if let Some(c) = shown.get_untracked().certificate {
            if let Err(e) = download("vto-certificate.pem", "application/x-pem-file", &c.pem) {
                message.set(Some((false, e)));
            }
        }
    };
    let create = move |_| {
        message.set(None);
        while_busy(busy, api::new_certificate(), move |r| match r {
            Ok(p) => {
                shown.set(p);
                message.set(Some((
                    true,
                    "A new self-signed certificate is in use.".into(),
                )));
            }
            Err(e) => message.set(Some((false, e.to_string()))),
        });
    };
    let upload = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        message.set(None);
        cert_error.set(None);
        key_error.set(None);
        spawn_local(async move {
            let read = |id: &'static str, slot: RwSignal<Option<String>>, what: &'static str| async move {
                match chosen_file_text(id, MAX_PEM_BYTES).await {
                    None => {
                        slot.set(Some(format!("Choose the {what} file (PEM)")));
                        None
                    }
                    Some(Err(e)) => {
                        slot.set(Some(e));
                        None
                    }
                    Some(Ok(t)) => Some(t),
                }
            };
            let certificate = read("certificate", cert_error, "certificate").await;
            let private_key = read("private-key", key_error, "private key").await;
            let (Some(certificate), Some(private_key)) = (certificate, private_key) else {
                return;
            };
            busy.set(true);
            let r = api::upload_certificate(CertificateUpload {
                certificate,
                private_key,
            })
            .await;
            busy.set(false);
            match r {
                Ok(p) => {
                    shown.set(p);
                    message.set(Some((true, "Certificate uploaded and in use.".into())));
                }
                Err(e) => crate::components::form::show_error(
                    e,
                    &[("certificate", cert_error), ("private-key", key_error)],
                    message,
                ),
            }
        });
    };

    view! {
        <section class="card wide" aria-labelledby="certificate-title">
            <h2 id="certificate-title">"HTTPS Certificate"</h2>
            {move || match shown.get().certificate {
                Some(c) => cert_facts(c).into_any(),
                None => view! { <p class="muted" id="no-certificate">"No certificate yet: enabling HTTPS makes one."</p> }.into_any(),
            }}
            <div class="actions left">
                <button
                    type="button"
                    id="certificate-download"
                    class="secondary"
                    disabled=move || !hydrated.get() || shown.get().certificate.is_none()
                    on:click=download_cert
                >
                    "Download"
                </button>
                <button
                    type="button"
                    id="certificate-create"
                    class="secondary"
                    disabled=move || !hydrated.get() || busy.get()
                    on:click=create
                >
                    "Create Certificate"
                </button>
            </div>
            <form id="certificate-form" on:submit=upload novalidate>
                <div class="grid-2">
                    <div class="field" class:has-error=move || cert_error.get().is_some()>
                        <label for="certificate">"Certificate"</label>
                        <input id="certificate" name="certificate" type="file" accept=".pem,.crt,.cer" />
                        <p class="field-error" id="certificate-error" role="alert">{move || cert_error.get()}</p>
                    </div>
                    <div class="field" class:has-error=move || key_error.get().is_some()>
                        <label for="private-key">"Private Key"</label>
                        <input id="private-key" name="private-key" type="file" accept=".pem,.key" />
                        <p class="field-error" id="private-key-error" role="alert">{move || key_error.get()}</p>
                    </div>
                </div>
                <p class="hint">"PEM files; the certificate may include its chain. The key must belong to the certificate. It never leaves the device."</p>
                <FormMessage message />
                <div class="actions">
                    <Submit label="Upload" id="certificate-upload" busy />
                </div>
            </form>
        </section>
    }
}
