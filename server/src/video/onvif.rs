//! ONVIF for IPCs whose Protocol is Onvif: the camera is asked for the RTSP
//! address of a stream (Media service, GetStreamUri), and that address is
//! then pulled like any RTSP camera (`rtsp.rs`).
//!
//! The steps, each a SOAP 1.2 request over plain HTTP to the IPC's
//! IP Addr. and Port No.:
//! 1. GetSystemDateAndTime (no authentication, as the standard requires):
//!    the camera's clock, because WS-Security timestamps are checked
//!    against it and many cameras' clocks are wrong;
//! 2. GetCapabilities (Media): where the Media service is;
//! 3. GetProfiles: the camera's streams, grouped by video input;
//! 4. GetStreamUri (RTP-Unicast over RTSP) for the chosen profile.
//!
//! Requests 2-4 carry a WS-Security UsernameToken with a PasswordDigest
//! (Base64(SHA-1(nonce + created + password))): the password itself never
//! crosses the network.
//!
//! Which profile: the Channel picks the video input (the n-th distinct
//! video source, in the camera's order: an NVR's channels), the Stream
//! picks the first (Main) or second (Extra1) H.264 profile of that input.
//!
//! Cameras often report their own idea of their address (a second network
//! card, a NAT): the service paths and the stream's port and path are taken
//! from the answers, the host is always the IP Addr. typed in.
//!
//! Everything that reads or writes XML is a pure function, tested on the
//! answers of a real camera (`tests/fixtures/onvif/`).

use std::{fmt, net::IpAddr, time::Duration};

use base64::{engine::general_purpose::STANDARD as B64, Engine as _};
use sha1::{Digest, Sha1};
use time::{Date, Month, OffsetDateTime, PrimitiveDateTime, Time};
use url::Url;

use super::rtsp::{self, RtspConfig};

/// The longest wait for each ONVIF request.
const REQUEST_WAIT: Duration = Duration::from_secs(10);
/// The largest answer read: a camera's profiles fit in a few dozen KiB.
const MAX_ANSWER: usize = 1 << 20;

const SOAP_ENV: &str = "http://www.w3.org/2003/05/soap-envelope";
const WSSE: &str =
    "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd";
const WSU: &str =
    "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd";
const PASSWORD_DIGEST: &str =
    "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordDigest";
const BASE64_BINARY: &str =
    "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-soap-message-security-1.0#Base64Binary";
const DEVICE_WSDL: &str = "http://www.onvif.org/ver10/device/wsdl";
const MEDIA_WSDL: &str = "http://www.onvif.org/ver10/media/wsdl";
const SCHEMA: &str = "http://www.onvif.org/ver10/schema";

/// One IPC stream reached through ONVIF.
#[derive(Clone, PartialEq, Eq)]
pub struct OnvifConfig {
    pub ip: IpAddr,
    /// The camera's HTTP port (ONVIF's, usually 80).
    pub port: u16,
    pub user: String,
    pub password: String,
    /// 1-based video input (an NVR's channel).
    pub channel: u16,
    /// The second profile of the input (Extra1) instead of the first.
    pub sub: bool,
    /// Relay the camera's G.711 audio.
    pub audio: bool,
}

// The password must never reach a log line.
impl fmt::Debug for OnvifConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OnvifConfig")
            .field("ip", &self.ip)
            .field("port", &self.port)
            .field("user", &self.user)
            .field("channel", &self.channel)
            .field("sub", &self.sub)
            .finish_non_exhaustive()
    }
}

impl OnvifConfig {
    /// `http://IP:PORT`, brackets around IPv6.
    pub fn base(&self) -> String {
        match self.ip {
            IpAddr::V4(ip) => format!("http://{ip}:{}", self.port),
            IpAddr::V6(ip) => format!("http://[{ip}]:{}", self.port),
        }
    }
}

/// Why no stream address came back.
#[derive(Debug, PartialEq, Eq)]
pub enum OnvifError {
    /// The camera cannot be used as set up: refused, or nothing suitable.
    Refused(String),
    /// No answer, or a broken one: worth retrying.
    Broken(String),
}

// ---------------------------------------------------------------- writing

/// `2025-11-10T17:32:59Z`, as WS-Security's Created.
fn created_text(t: OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// Base64(SHA-1(nonce + created + password)): WS-Security's PasswordDigest.
pub fn password_digest(nonce: &[u8], created: &str, password: &str) -> String {
    let mut sha = Sha1::new();
    sha.update(nonce);
    sha.update(created.as_bytes());
    sha.update(password.as_bytes());
    B64.encode(sha.finalize())
}

fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

/// Who signs a request, with what nonce, at what (camera) time.
pub struct Security<'a> {
    pub user: &'a str,
    pub password: &'a str,
    pub nonce: [u8; 16],
    pub created: OffsetDateTime,
}

/// A SOAP 1.2 envelope around `body`, with a UsernameToken if `security`.
pub fn envelope(security: Option<&Security<'_>>, body: &str) -> String {
    let header = security
        .map(|s| {
            let created = created_text(s.created);
            format!(
                "<s:Header><wsse:Security s:mustUnderstand=\"1\" xmlns:wsse=\"{WSSE}\" \
                 xmlns:wsu=\"{WSU}\"><wsse:UsernameToken><wsse:Username>{}</wsse:Username>\
                 <wsse:Password Type=\"{PASSWORD_DIGEST}\">{}</wsse:Password>\
                 <wsse:Nonce EncodingType=\"{BASE64_BINARY}\">{}</wsse:Nonce>\
                 <wsu:Created>{created}</wsu:Created></wsse:UsernameToken></wsse:Security>\
                 </s:Header>",
                escape(s.user),
                password_digest(&s.nonce, &created, s.password),
                B64.encode(s.nonce),
            )
        })
        .unwrap_or_default();
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><s:Envelope xmlns:s=\"{SOAP_ENV}\" \
         xmlns:tds=\"{DEVICE_WSDL}\" xmlns:trt=\"{MEDIA_WSDL}\" xmlns:tt=\"{SCHEMA}\">\
         {header}<s:Body>{body}</s:Body></s:Envelope>"
    )
}

/// The requests this client makes: (SOAP action, body).
pub mod request {
    pub fn system_date_and_time() -> (&'static str, String) {
        (
            "http://www.onvif.org/ver10/device/wsdl/GetSystemDateAndTime",
            "<tds:GetSystemDateAndTime/>".into(),
        )
    }

    pub fn media_capabilities() -> (&'static str, String) {
        (
            "http://www.onvif.org/ver10/device/wsdl/GetCapabilities",
            "<tds:GetCapabilities><tds:Category>Media</tds:Category></tds:GetCapabilities>".into(),
        )
    }

    pub fn profiles() -> (&'static str, String) {
        (
            "http://www.onvif.org/ver10/media/wsdl/GetProfiles",
            "<trt:GetProfiles/>".into(),
        )
    }

    pub fn stream_uri(token: &str) -> (&'static str, String) {
        (
            "http://www.onvif.org/ver10/media/wsdl/GetStreamUri",
            format!(
                "<trt:GetStreamUri><trt:StreamSetup><tt:Stream>RTP-Unicast</tt:Stream>\
                 <tt:Transport><tt:Protocol>RTSP</tt:Protocol></tt:Transport></trt:StreamSetup>\
                 <trt:ProfileToken>{}</trt:ProfileToken></trt:GetStreamUri>",
                super::escape(token)
            ),
        )
    }
}

// ---------------------------------------------------------------- reading

fn parse(xml: &str) -> Result<roxmltree::Document<'_>, String> {
    roxmltree::Document::parse(xml).map_err(|e| format!("not XML ({e})"))
}

/// Elements are matched on their local names: cameras use every prefix.
fn named<'a, 'i>(
    node: roxmltree::Node<'a, 'i>,
    name: &'static str,
) -> impl Iterator<Item = roxmltree::Node<'a, 'i>> {
    node.descendants()
        .filter(move |n| n.is_element() && n.tag_name().name() == name)
}

fn child<'a, 'i>(node: roxmltree::Node<'a, 'i>, name: &str) -> Option<roxmltree::Node<'a, 'i>> {
    node.children()
        .find(|n| n.is_element() && n.tag_name().name() == name)
}

fn text_of(node: roxmltree::Node<'_, '_>, path: &[&str]) -> Option<String> {
    let mut n = node;
    for name in path {
        n = child(n, name)?;
    }
    Some(n.text().unwrap_or_default().trim().to_string())
}

/// A SOAP fault in an answer.
#[derive(Debug, PartialEq, Eq)]
pub struct Fault {
    /// The camera refused the user name or password.
    pub auth: bool,
    /// Its codes and reason, for the status line.
    pub text: String,
}

/// The fault in `xml`, if it is one.
pub fn fault(xml: &str) -> Option<Fault> {
    let doc = parse(xml).ok()?;
    let fault = named(doc.root(), "Fault").next()?;
    let values: Vec<String> = named(fault, "Value")
        .filter_map(|n| n.text())
        .map(|t| t.trim().to_string())
        .collect();
    // SOAP 1.2 says Reason/Text; SOAP 1.1 cameras say faultstring.
    let reason = named(fault, "Text")
        .chain(named(fault, "faultstring"))
        .filter_map(|n| n.text())
        .map(str::trim)
        .find(|t| !t.is_empty())
        .unwrap_or_default()
        .to_string();
    let auth = values
        .iter()
        .chain(std::iter::once(&reason))
        .any(|v| v.contains("NotAuthorized") || v.contains("FailedAuthentication"));
    let code = values
        .iter()
        .map(|v| v.rsplit(':').next().unwrap_or(v))
        .collect::<Vec<_>>()
        .join("/");
    Some(Fault {
        auth,
        text: match (code.is_empty(), reason.is_empty()) {
            (false, false) => format!("{code}: {reason}"),
            (false, true) => code,
            _ => reason,
        },
    })
}

/// The camera's clock, from GetSystemDateAndTimeResponse (its UTC time).
pub fn device_time(xml: &str) -> Result<OffsetDateTime, String> {
    let doc = parse(xml)?;
    let utc = named(doc.root(), "UTCDateTime")
        .next()
        .ok_or("no UTCDateTime in the answer")?;
    let number = |path: &[&str]| -> Result<i32, String> {
        text_of(utc, path)
            .and_then(|t| t.parse().ok())
            .ok_or_else(|| format!("no {} in UTCDateTime", path.join("/")))
    };
    let small = |path: &[&str]| -> Result<u8, String> {
        u8::try_from(number(path)?).map_err(|_| format!("{} out of range", path.join("/")))
    };
    let month = Month::try_from(small(&["Date", "Month"])?).map_err(|e| e.to_string())?;
    let date =
        Date::from_calendar_date(number(&["Date", "Year"])?, month, small(&["Date", "Day"])?)
            .map_err(|e| e.to_string())?;
    let time = Time::from_hms(
        small(&["Time", "Hour"])?,
        small(&["Time", "Minute"])?,
        small(&["Time", "Second"])?,
    )
    .map_err(|e| e.to_string())?;
    Ok(PrimitiveDateTime::new(date, time).assume_utc())
}

/// The Media service's address from GetCapabilitiesResponse, if given.
pub fn media_xaddr(xml: &str) -> Result<Option<String>, String> {
    let doc = parse(xml)?;
    let xaddr = named(doc.root(), "Media")
        .find_map(|m| text_of(m, &["XAddr"]))
        .filter(|x| !x.is_empty());
    Ok(xaddr)
}

/// One media profile: its token, its video input, its video encoding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Profile {
    pub token: String,
    pub name: String,
    pub source: String,
    pub encoding: String,
}

/// The profiles of GetProfilesResponse, in the camera's order.
pub fn profiles(xml: &str) -> Result<Vec<Profile>, String> {
    let doc = parse(xml)?;
    Ok(named(doc.root(), "Profiles")
        .filter_map(|p| {
            Some(Profile {
                token: p.attribute("token")?.to_string(),
                name: text_of(p, &["Name"]).unwrap_or_default(),
                source: text_of(p, &["VideoSourceConfiguration", "SourceToken"])
                    .unwrap_or_default(),
                encoding: text_of(p, &["VideoEncoderConfiguration", "Encoding"])
                    .unwrap_or_default(),
            })
        })
        .collect())
}

/// The profile for `channel` (1-based video input) and Main or Extra1
/// (`sub`), preferring H.264 profiles.
pub fn choose_profile(profiles: &[Profile], channel: u16, sub: bool) -> Result<&Profile, String> {
    if profiles.is_empty() {
        return Err("the camera has no media profiles".into());
    }
    let mut sources: Vec<&str> = Vec::new();
    for p in profiles {
        if !sources.contains(&p.source.as_str()) {
            sources.push(&p.source);
        }
    }
    let source = sources
        .get(usize::from(channel.max(1)) - 1)
        .ok_or_else(|| {
            format!(
                "the camera has {} video input{}: there is no channel {channel}",
                sources.len(),
                if sources.len() == 1 { "" } else { "s" }
            )
        })?;
    let of_input: Vec<&Profile> = profiles.iter().filter(|p| p.source == *source).collect();
    let h264: Vec<&Profile> = of_input
        .iter()
        .copied()
        .filter(|p| p.encoding.eq_ignore_ascii_case("h264"))
        .collect();
    let pool = if h264.is_empty() { of_input } else { h264 };
    let pick = if sub {
        pool.get(1).or(pool.first())
    } else {
        pool.first()
    };
    pick.copied()
        .ok_or_else(|| "the camera has no media profiles".into())
}

/// The address in GetStreamUriResponse.
pub fn stream_uri(xml: &str) -> Result<String, String> {
    let doc = parse(xml)?;
    let uri = named(doc.root(), "MediaUri")
        .find_map(|m| text_of(m, &["Uri"]))
        .filter(|u| !u.is_empty());
    uri.ok_or_else(|| "no MediaUri/Uri in the answer".into())
}

/// The stream's address as pulled: the camera's port, path and query on the
/// typed-in `ip`, without any credentials the camera put in it.
pub fn stream_url(uri: &str, ip: IpAddr) -> Result<Url, String> {
    let mut url = Url::parse(uri).map_err(|e| format!("the camera gave a bad address: {e}"))?;
    if url.scheme() != "rtsp" {
        return Err(format!(
            "the camera gave no RTSP address ({})",
            url.scheme()
        ));
    }
    url.set_ip_host(ip)
        .and_then(|()| url.set_username(""))
        .and_then(|()| url.set_password(None))
        .map_err(|()| format!("the camera gave an address that cannot be used: {uri}"))?;
    rtsp::parse_url(url.as_str())
}

/// `path?query` of a service address, to be asked on the typed-in host.
fn service_path(xaddr: &str) -> Option<String> {
    let url = Url::parse(xaddr).ok()?;
    Some(match url.query() {
        Some(q) => format!("{}?{q}", url.path()),
        None => url.path().to_string(),
    })
}

// ---------------------------------------------------------------- talking

struct Client<'a> {
    http: reqwest::Client,
    config: &'a OnvifConfig,
    /// Camera clock minus ours.
    skew: time::Duration,
}

impl Client<'_> {
    /// Sends one request to `path`; the answer's XML, or why not.
    async fn call(
        &self,
        path: &str,
        (action, body): (&str, String),
        signed: bool,
    ) -> Result<String, OnvifError> {
        let name = action.rsplit('/').next().unwrap_or(action);
        let security = match signed && !self.config.user.is_empty() {
            true => {
                let mut nonce = [0u8; 16];
                getrandom::fill(&mut nonce)
                    .map_err(|e| OnvifError::Broken(format!("no random numbers: {e}")))?;
                Some(Security {
                    user: &self.config.user,
                    password: &self.config.password,
                    nonce,
                    created: crate::clock::host_utc() + self.skew,
                })
            }
            false => None,
        };
        let url = format!("{}{path}", self.config.base());
        let mut response = self
            .http
            .post(&url)
            .header(
                reqwest::header::CONTENT_TYPE,
                format!("application/soap+xml; charset=utf-8; action=\"{action}\""),
            )
            .body(envelope(security.as_ref(), &body))
            .send()
            .await
            .map_err(|e| {
                OnvifError::Broken(format!(
                    "the camera does not answer ONVIF at {url}: {}",
                    error_text(&e)
                ))
            })?;
        let status = response.status();
        let mut answer = Vec::new();
        loop {
            match response.chunk().await {
                Ok(Some(chunk)) => {
                    if answer.len() + chunk.len() > MAX_ANSWER {
                        return Err(OnvifError::Refused(format!(
                            "the camera's answer to {name} is larger than {} KiB",
                            MAX_ANSWER / 1024
                        )));
                    }
                    answer.extend_from_slice(&chunk);
                }
                Ok(None) => break,
                Err(e) => {
                    return Err(OnvifError::Broken(format!(
                        "the camera's answer to {name} broke off: {}",
                        error_text(&e)
                    )))
                }
            }
        }
        let xml = String::from_utf8_lossy(&answer).into_owned();
        if let Some(f) = fault(&xml) {
            return Err(OnvifError::Refused(if f.auth {
                "the camera refused the user name or password (ONVIF)".into()
            } else {
                format!("the camera refused ONVIF {name}: {}", f.text)
            }));
        }
        if status == reqwest::StatusCode::UNAUTHORIZED {
            return Err(OnvifError::Refused(
                "the camera refused the user name or password (ONVIF)".into(),
            ));
        }
        if !status.is_success() {
            return Err(OnvifError::Broken(format!(
                "the camera answered ONVIF {name} with HTTP {}",
                status.as_u16()
            )));
        }
        Ok(xml)
    }
}

/// reqwest's message without the URL (already said) and with its cause.
fn error_text(e: &reqwest::Error) -> String {
    let mut text = if e.is_timeout() {
        format!("no answer within {} s", REQUEST_WAIT.as_secs())
    } else if e.is_connect() {
        "cannot connect".to_string()
    } else {
        "the request failed".to_string()
    };
    if let Some(cause) = std::error::Error::source(e).and_then(std::error::Error::source) {
        text = format!("{text} ({cause})");
    }
    text
}

/// Asks the camera where its stream is: the RTSP camera to pull.
pub async fn resolve(config: &OnvifConfig) -> Result<RtspConfig, OnvifError> {
    let http = reqwest::Client::builder()
        .timeout(REQUEST_WAIT)
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .user_agent(format!("vto/{}", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| OnvifError::Broken(format!("HTTP client: {e}")))?;
    let mut client = Client {
        http,
        config,
        skew: time::Duration::ZERO,
    };
    let device = "/onvif/device_service";
    let refused = |what: &str, e: String| OnvifError::Refused(format!("ONVIF {what}: {e}"));
    // A camera that will not tell its time is asked with ours.
    match client
        .call(device, request::system_date_and_time(), false)
        .await
    {
        Ok(xml) => match device_time(&xml) {
            Ok(t) => client.skew = t - crate::clock::host_utc(),
            Err(e) => tracing::debug!(error = e, "ONVIF camera time"),
        },
        Err(OnvifError::Broken(e)) => return Err(OnvifError::Broken(e)),
        Err(OnvifError::Refused(e)) => tracing::debug!(error = e, "ONVIF camera time"),
    }
    let capabilities = client
        .call(device, request::media_capabilities(), true)
        .await?;
    let media = media_xaddr(&capabilities)
        .map_err(|e| refused("GetCapabilities", e))?
        .and_then(|x| service_path(&x))
        .unwrap_or_else(|| device.to_string());
    let answer = client.call(&media, request::profiles(), true).await?;
    let profiles = profiles(&answer).map_err(|e| refused("GetProfiles", e))?;
    let profile =
        choose_profile(&profiles, config.channel, config.sub).map_err(OnvifError::Refused)?;
    let answer = client
        .call(&media, request::stream_uri(&profile.token), true)
        .await?;
    let uri = stream_uri(&answer).map_err(|e| refused("GetStreamUri", e))?;
    let url = stream_url(&uri, config.ip).map_err(OnvifError::Refused)?;
    tracing::info!(profile = %profile.token, url = %url, "ONVIF stream address");
    Ok(RtspConfig {
        url,
        user: config.user.clone(),
        password: config.password.clone(),
        udp: false,
        audio: config.audio,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Answers recorded from a real camera (see the folder's README).
    fn recorded(name: &str) -> String {
        let path = format!(
            "{}/../tests/fixtures/onvif/bosch-flexidome-5100i/{name}.xml",
            env!("CARGO_MANIFEST_DIR")
        );
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    #[test]
    fn the_camera_clock_is_read() {
        let t = device_time(&recorded("GetSystemDateAndTime")).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(created_text(t), "2023-05-24T21:25:05Z");
    }

    #[test]
    fn the_media_service_is_found() {
        let x = media_xaddr(&recorded("GetCapabilities")).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            x.as_deref(),
            Some("http://192.168.1.201/onvif/media_service")
        );
        assert_eq!(
            service_path("http://192.168.1.201/onvif/media_service").as_deref(),
            Some("/onvif/media_service")
        );
    }

    #[test]
    fn profiles_are_read_and_chosen_by_channel_and_stream() {
        let all = profiles(&recorded("GetProfiles")).unwrap_or_else(|e| panic!("{e}"));
        let tokens: Vec<&str> = all.iter().map(|p| p.token.as_str()).collect();
        assert_eq!(tokens, ["0", "1", "2", "3"]);
        assert!(all.iter().all(|p| p.source == "1" && p.encoding == "H264"));
        assert_eq!(all[0].name, "Profile_L1S1");
        let pick = |channel, sub| choose_profile(&all, channel, sub).map(|p| p.token.clone());
        assert_eq!(pick(1, false), Ok("0".into()));
        assert_eq!(pick(1, true), Ok("1".into()));
        let two = pick(2, false).unwrap_err();
        assert!(two.contains("1 video input"), "{two}");
    }

    #[test]
    fn an_nvr_channel_is_its_video_input_and_h264_comes_first() {
        let p = |token: &str, source: &str, encoding: &str| Profile {
            token: token.into(),
            name: String::new(),
            source: source.into(),
            encoding: encoding.into(),
        };
        let all = [
            p("a", "VideoSource_1", "H265"),
            p("b", "VideoSource_1", "H264"),
            p("c", "VideoSource_2", "H264"),
            p("d", "VideoSource_2", "H264"),
            p("e", "VideoSource_3", "H265"),
        ];
        let pick = |channel, sub| choose_profile(&all, channel, sub).map(|p| p.token.clone());
        assert_eq!(pick(1, false), Ok("b".into()));
        assert_eq!(pick(1, true), Ok("b".into()));
        assert_eq!(pick(2, false), Ok("c".into()));
        assert_eq!(pick(2, true), Ok("d".into()));
        // No H.264 at all: the profile is pulled and RTSP says what it is.
        assert_eq!(pick(3, false), Ok("e".into()));
        assert!(pick(4, false).is_err());
        assert!(choose_profile(&[], 1, false).is_err());
    }

    #[test]
    fn the_stream_address_is_decoded_and_put_on_the_typed_in_host() {
        let uri = stream_uri(&recorded("GetStreamUri-1")).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            uri,
            "rtsp://192.168.1.201/rtsp_tunnel?p=1&line=1&inst=2&vcd=2"
        );
        let ip: IpAddr = "10.0.0.7".parse().unwrap_or_else(|e| panic!("{e}"));
        let url = stream_url(&uri, ip).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            url.as_str(),
            "rtsp://10.0.0.7/rtsp_tunnel?p=1&line=1&inst=2&vcd=2"
        );
        let ip6: IpAddr = "fd00::7".parse().unwrap_or_else(|e| panic!("{e}"));
        let url = stream_url(
            "rtsp://admin:secret@192.168.1.108:8554/cam/realmonitor?channel=1&subtype=0",
            ip6,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            url.as_str(),
            "rtsp://[fd00::7]:8554/cam/realmonitor?channel=1&subtype=0"
        );
        assert!(stream_url("http://192.168.1.201/x", ip).is_err());
        assert!(stream_url("not a url", ip).is_err());
    }

    #[test]
    fn faults_are_recognised() {
        let f = fault(
            &std::fs::read_to_string(format!(
                "{}/../tests/fixtures/onvif/fault-not-authorized.xml",
                env!("CARGO_MANIFEST_DIR")
            ))
            .unwrap_or_else(|e| panic!("{e}")),
        )
        .unwrap_or_else(|| panic!("no fault"));
        assert!(f.auth);
        assert!(f.text.contains("NotAuthorized"), "{}", f.text);
        let f = fault(
            "<e:Envelope xmlns:e=\"http://schemas.xmlsoap.org/soap/envelope/\"><e:Body><e:Fault>\
             <faultcode>e:Server</faultcode><faultstring>No such profile</faultstring>\
             </e:Fault></e:Body></e:Envelope>",
        )
        .unwrap_or_else(|| panic!("no fault"));
        assert!(!f.auth);
        assert_eq!(f.text, "No such profile");
        assert_eq!(fault(&recorded("GetProfiles")), None);
        assert_eq!(fault("garbage <<"), None);
    }

    #[test]
    fn answers_that_are_not_xml_or_lack_the_part_are_errors() {
        for bad in ["", "garbage <<", "<a/>", "<Envelope><Body/></Envelope>"] {
            assert!(device_time(bad).is_err(), "{bad}");
            assert!(stream_uri(bad).is_err(), "{bad}");
            assert_eq!(profiles(bad).unwrap_or_default(), Vec::new(), "{bad}");
        }
        let month_13 = "<UTCDateTime><Date><Year>2024</Year><Month>13</Month><Day>1</Day></Date>\
                        <Time><Hour>0</Hour><Minute>0</Minute><Second>0</Second></Time></UTCDateTime>";
        assert!(device_time(month_13).is_err());
    }

    #[test]
    fn the_digest_matches_the_onvif_programmers_guide() {
        // ONVIF Application Programmer's Guide, 6.1.1.3: its worked example.
        let nonce = B64
            .decode("LKqI6G/AikKCQrN0zqZFlg==")
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            password_digest(&nonce, "2010-09-16T07:50:45Z", "userpassword"),
            "tuOSpGlFlIXsozq4HFNeeGeFLEI="
        );
    }

    #[test]
    fn the_envelope_signs_with_a_digest_and_escapes_the_user() {
        let created =
            OffsetDateTime::from_unix_timestamp(1_762_795_979).unwrap_or_else(|e| panic!("{e}"));
        let security = Security {
            user: "a<b",
            password: "pw",
            nonce: [7; 16],
            created,
        };
        let xml = envelope(Some(&security), "<tds:GetSystemDateAndTime/>");
        let doc = roxmltree::Document::parse(&xml).unwrap_or_else(|e| panic!("{e}"));
        let token = named(doc.root(), "UsernameToken")
            .next()
            .unwrap_or_else(|| panic!("no token"));
        assert_eq!(text_of(token, &["Username"]).as_deref(), Some("a<b"));
        let created_text = text_of(token, &["Created"]).unwrap_or_default();
        assert_eq!(created_text, "2025-11-10T17:32:59Z");
        let nonce = B64
            .decode(text_of(token, &["Nonce"]).unwrap_or_default())
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(nonce, [7; 16]);
        assert_eq!(
            text_of(token, &["Password"]).as_deref(),
            Some(password_digest(&[7; 16], "2025-11-10T17:32:59Z", "pw").as_str())
        );
        assert!(!xml.contains(">pw<"), "the password itself is never sent");
        assert!(!envelope(None, "<x/>").contains("Security"));
    }
}
