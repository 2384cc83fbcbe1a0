//! The answers of the device (`tds`), media (`trt`) and media2 (`tr2`)
//! services, written from a typed description of the device. Each element
//! is written in its schema's order: zeep (and so Home Assistant) reads
//! sequences in order.

use crate::{
    fault::{Code, Fault},
    ns,
    soap::{Request, Service, Soap},
    time::Utc,
    xml::escape as e,
};

/// Where each service is, under the device's HTTP address.
pub const DEVICE_PATH: &str = "/onvif/device_service";
pub const MEDIA_PATH: &str = "/onvif/media_service";
pub const MEDIA2_PATH: &str = "/onvif/media2_service";

/// One stream of the camera: a media profile.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stream {
    /// The profile's token (`main`, `sub`).
    pub token: String,
    pub name: String,
    /// `subtype=` of its RTSP URL.
    pub subtype: u8,
    pub width: u32,
    pub height: u32,
    pub fps: u32,
    pub bitrate_kbps: u32,
}

/// What the answers say about the device.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Device {
    pub manufacturer: String,
    pub model: String,
    pub firmware: String,
    pub serial: String,
    pub hardware_id: String,
    /// The device's name in its scopes (`onvif://www.onvif.org/name/…`).
    pub name: String,
    pub hostname: String,
    /// `http://HOST:PORT`: where the services were reached.
    pub http: String,
    /// `rtsp://HOST:PORT`, `None` when the device serves no RTSP.
    pub rtsp: Option<String>,
    /// The address the client reached (for GetNetworkInterfaces).
    pub address: String,
    pub streams: Vec<Stream>,
    /// Unix seconds, UTC.
    pub now: i64,
    /// NTP keeps the clock (else Manual).
    pub ntp: bool,
}

/// What an operation needs of its caller.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// Answered before authentication (ONVIF Core 5.9.4: the clock and
    /// what the services are).
    Public,
    /// Watching the camera: what a Viewer may.
    View,
    /// A snapshot's address: what the snapshot itself needs.
    Snapshot,
}

/// The access an operation needs (unknown ones need [`Access::View`]:
/// nobody learns what is served before authenticating).
pub fn access(service: Service, op: &str) -> Access {
    match (service, op) {
        (Service::Device, "GetSystemDateAndTime" | "GetServices" | "GetServiceCapabilities")
        | (Service::Media | Service::Media2, "GetServiceCapabilities") => Access::Public,
        (Service::Media | Service::Media2, "GetSnapshotUri") => Access::Snapshot,
        _ => Access::View,
    }
}

/// A whole answer envelope around `body`.
pub fn envelope(soap: Soap, body: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><env:Envelope xmlns:env=\"{}\" \
         xmlns:tds=\"{}\" xmlns:trt=\"{}\" xmlns:tr2=\"{}\" xmlns:tt=\"{}\"><env:Body>{body}\
         </env:Body></env:Envelope>",
        soap.namespace(),
        ns::DEVICE,
        ns::MEDIA,
        ns::MEDIA2,
        ns::SCHEMA
    )
}

/// The answer to `req` (its body element), or its fault.
pub fn answer(req: &Request, dev: &Device) -> Result<String, Fault> {
    let op = req.operation.as_str();
    let body = match req.service {
        Service::Device => device(op, req, dev)?,
        Service::Media => media(op, req, dev)?,
        Service::Media2 => media2(op, req, dev)?,
        Service::Other => return Err(Fault::action_not_supported(op)),
    };
    Ok(envelope(req.soap, &body))
}

fn bool_text(b: bool) -> &'static str {
    if b {
        "true"
    } else {
        "false"
    }
}

/// Percent-encodes what a scope's path segment may not hold.
fn scope_segment(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The device's scopes (`onvif://www.onvif.org/...`), for GetScopes and
/// WS-Discovery.
pub fn scopes(dev: &Device) -> Vec<String> {
    let base = "onvif://www.onvif.org";
    vec![
        format!("{base}/type/video_encoder"),
        format!("{base}/type/audio_encoder"),
        format!("{base}/type/door_station"),
        format!("{base}/Profile/Streaming"),
        format!("{base}/hardware/{}", scope_segment(&dev.model)),
        format!("{base}/name/{}", scope_segment(&dev.name)),
    ]
}

fn device_capabilities() -> String {
    String::from(
        "<tds:Capabilities><tds:Network IPFilter=\"false\" ZeroConfiguration=\"false\" \
         IPVersion6=\"false\" DynDNS=\"false\" Dot11Configuration=\"false\" \
         HostnameFromDHCP=\"false\" NTP=\"0\"/><tds:Security TLS1.0=\"false\" TLS1.1=\"false\" \
         TLS1.2=\"false\" OnboardKeyGeneration=\"false\" AccessPolicyConfig=\"false\" \
         DefaultAccessPolicy=\"false\" Dot1X=\"false\" RemoteUserHandling=\"false\" \
         X.509Token=\"false\" SAMLToken=\"false\" KerberosToken=\"false\" UsernameToken=\"true\" \
         HttpDigest=\"true\" RELToken=\"false\"/><tds:System DiscoveryResolve=\"false\" \
         DiscoveryBye=\"false\" RemoteDiscovery=\"false\" SystemBackup=\"false\" \
         SystemLogging=\"false\" FirmwareUpgrade=\"false\" HttpFirmwareUpgrade=\"false\" \
         HttpSystemBackup=\"false\" HttpSystemLogging=\"false\" HttpSupportInformation=\"false\"/>\
         </tds:Capabilities>",
    )
}

fn media_capabilities(prefix: &str, dev: &Device) -> String {
    let rtsp = bool_text(dev.rtsp.is_some());
    let n = dev.streams.len();
    if prefix == "tr2" {
        format!(
            "<tr2:Capabilities SnapshotUri=\"true\" Rotation=\"false\" VideoSourceMode=\"false\" \
             OSD=\"false\" TemporaryOSDText=\"false\" Mask=\"false\" SourceMask=\"false\">\
             <tr2:ProfileCapabilities MaximumNumberOfProfiles=\"{n}\" \
             ConfigurationsSupported=\"VideoSource VideoEncoder AudioSource AudioEncoder\"/>\
             <tr2:StreamingCapabilities RTSPStreaming=\"{rtsp}\" RTPMulticast=\"false\" \
             RTP_RTSP_TCP=\"{rtsp}\" NonAggregateControl=\"false\" AutoStartMulticast=\"false\"/>\
             </tr2:Capabilities>"
        )
    } else {
        format!(
            "<trt:Capabilities SnapshotUri=\"true\" Rotation=\"false\" VideoSourceMode=\"false\" \
             OSD=\"false\" TemporaryOSDText=\"false\" EXICompression=\"false\">\
             <trt:ProfileCapabilities MaximumNumberOfProfiles=\"{n}\"/>\
             <trt:StreamingCapabilities RTPMulticast=\"false\" RTP_TCP=\"{rtsp}\" \
             RTP_RTSP_TCP=\"{rtsp}\" NonAggregateControl=\"false\" NoRTSPStreaming=\"{}\"/>\
             </trt:Capabilities>",
            bool_text(dev.rtsp.is_none())
        )
    }
}

fn device(op: &str, req: &Request, dev: &Device) -> Result<String, Fault> {
    Ok(match op {
        "GetSystemDateAndTime" => {
            let t = Utc::from_unix(dev.now);
            format!(
                "<tds:GetSystemDateAndTimeResponse><tds:SystemDateAndTime><tt:DateTimeType>{}\
                 </tt:DateTimeType><tt:DaylightSavings>false</tt:DaylightSavings><tt:TimeZone>\
                 <tt:TZ>UTC0</tt:TZ></tt:TimeZone><tt:UTCDateTime><tt:Time><tt:Hour>{}</tt:Hour>\
                 <tt:Minute>{}</tt:Minute><tt:Second>{}</tt:Second></tt:Time><tt:Date><tt:Year>{}\
                 </tt:Year><tt:Month>{}</tt:Month><tt:Day>{}</tt:Day></tt:Date></tt:UTCDateTime>\
                 </tds:SystemDateAndTime></tds:GetSystemDateAndTimeResponse>",
                if dev.ntp { "NTP" } else { "Manual" },
                t.hour,
                t.minute,
                t.second,
                t.year,
                t.month,
                t.day
            )
        }
        "GetDeviceInformation" => format!(
            "<tds:GetDeviceInformationResponse><tds:Manufacturer>{}</tds:Manufacturer>\
             <tds:Model>{}</tds:Model><tds:FirmwareVersion>{}</tds:FirmwareVersion>\
             <tds:SerialNumber>{}</tds:SerialNumber><tds:HardwareId>{}</tds:HardwareId>\
             </tds:GetDeviceInformationResponse>",
            e(&dev.manufacturer),
            e(&dev.model),
            e(&dev.firmware),
            e(&dev.serial),
            e(&dev.hardware_id)
        ),
        "GetCapabilities" => capabilities(&req.args.categories, dev)?,
        "GetServices" => {
            let mut out = String::from("<tds:GetServicesResponse>");
            for (namespace, path, major, minor, caps) in [
                (ns::DEVICE, DEVICE_PATH, 2, 60, device_capabilities()),
                (ns::MEDIA, MEDIA_PATH, 2, 60, media_capabilities("trt", dev)),
                (
                    ns::MEDIA2,
                    MEDIA2_PATH,
                    2,
                    60,
                    media_capabilities("tr2", dev),
                ),
            ] {
                let caps = if req.args.include_capability {
                    format!("<tds:Capabilities>{caps}</tds:Capabilities>")
                } else {
                    String::new()
                };
                out.push_str(&format!(
                    "<tds:Service><tds:Namespace>{namespace}</tds:Namespace><tds:XAddr>{}{path}\
                     </tds:XAddr>{caps}<tds:Version><tt:Major>{major}</tt:Major><tt:Minor>{minor}\
                     </tt:Minor></tds:Version></tds:Service>",
                    e(&dev.http)
                ));
            }
            out.push_str("</tds:GetServicesResponse>");
            out
        }
        "GetServiceCapabilities" => format!(
            "<tds:GetServiceCapabilitiesResponse>{}</tds:GetServiceCapabilitiesResponse>",
            device_capabilities()
        ),
        "GetScopes" => {
            let mut out = String::from("<tds:GetScopesResponse>");
            for s in scopes(dev) {
                out.push_str(&format!(
                    "<tds:Scopes><tt:ScopeDef>Fixed</tt:ScopeDef><tt:ScopeItem>{}</tt:ScopeItem>\
                     </tds:Scopes>",
                    e(&s)
                ));
            }
            out.push_str("</tds:GetScopesResponse>");
            out
        }
        "GetHostname" => format!(
            "<tds:GetHostnameResponse><tds:HostnameInformation><tt:FromDHCP>false</tt:FromDHCP>\
             <tt:Name>{}</tt:Name></tds:HostnameInformation></tds:GetHostnameResponse>",
            e(&dev.hostname)
        ),
        "GetNetworkInterfaces" => {
            // The interface the client reached; IPv6 shown as reached.
            let v4 = dev.address.parse::<std::net::Ipv4Addr>().is_ok();
            let ip = if v4 {
                format!(
                    "<tt:IPv4><tt:Enabled>true</tt:Enabled><tt:Config><tt:Manual><tt:Address>{}\
                     </tt:Address><tt:PrefixLength>24</tt:PrefixLength></tt:Manual>\
                     <tt:DHCP>false</tt:DHCP></tt:Config></tt:IPv4>",
                    e(&dev.address)
                )
            } else {
                format!(
                    "<tt:IPv6><tt:Enabled>true</tt:Enabled><tt:Config><tt:AcceptRouterAdvert>false\
                     </tt:AcceptRouterAdvert><tt:DHCP>Off</tt:DHCP><tt:Manual><tt:Address>{}\
                     </tt:Address><tt:PrefixLength>64</tt:PrefixLength></tt:Manual></tt:Config>\
                     </tt:IPv6>",
                    e(&dev.address)
                )
            };
            format!(
                "<tds:GetNetworkInterfacesResponse><tds:NetworkInterfaces token=\"eth0\">\
                 <tt:Enabled>true</tt:Enabled>{ip}</tds:NetworkInterfaces>\
                 </tds:GetNetworkInterfacesResponse>"
            )
        }
        _ => return Err(Fault::action_not_supported(op)),
    })
}

fn capabilities(categories: &[String], dev: &Device) -> Result<String, Fault> {
    let wants = |c: &str| categories.is_empty() || categories.iter().any(|x| x == "All" || x == c);
    let mut out = String::from("<tds:GetCapabilitiesResponse><tds:Capabilities>");
    let mut any = false;
    if wants("Device") {
        any = true;
        out.push_str(&format!(
            "<tt:Device><tt:XAddr>{}{DEVICE_PATH}</tt:XAddr><tt:Network><tt:IPFilter>false\
             </tt:IPFilter><tt:ZeroConfiguration>false</tt:ZeroConfiguration><tt:IPVersion6>false\
             </tt:IPVersion6><tt:DynDNS>false</tt:DynDNS></tt:Network><tt:System>\
             <tt:DiscoveryResolve>false</tt:DiscoveryResolve><tt:DiscoveryBye>false\
             </tt:DiscoveryBye><tt:RemoteDiscovery>false</tt:RemoteDiscovery><tt:SystemBackup>\
             false</tt:SystemBackup><tt:SystemLogging>false</tt:SystemLogging>\
             <tt:FirmwareUpgrade>false</tt:FirmwareUpgrade><tt:SupportedVersions><tt:Major>2\
             </tt:Major><tt:Minor>60</tt:Minor></tt:SupportedVersions></tt:System><tt:Security>\
             <tt:TLS1.1>false</tt:TLS1.1><tt:TLS1.2>false</tt:TLS1.2><tt:OnboardKeyGeneration>\
             false</tt:OnboardKeyGeneration><tt:AccessPolicyConfig>false</tt:AccessPolicyConfig>\
             <tt:X.509Token>false</tt:X.509Token><tt:SAMLToken>false</tt:SAMLToken>\
             <tt:KerberosToken>false</tt:KerberosToken><tt:RELToken>false</tt:RELToken>\
             </tt:Security></tt:Device>",
            e(&dev.http)
        ));
    }
    if wants("Media") {
        any = true;
        let rtsp = bool_text(dev.rtsp.is_some());
        out.push_str(&format!(
            "<tt:Media><tt:XAddr>{}{MEDIA_PATH}</tt:XAddr><tt:StreamingCapabilities>\
             <tt:RTPMulticast>false</tt:RTPMulticast><tt:RTP_TCP>{rtsp}</tt:RTP_TCP>\
             <tt:RTP_RTSP_TCP>{rtsp}</tt:RTP_RTSP_TCP></tt:StreamingCapabilities></tt:Media>",
            e(&dev.http)
        ));
    }
    if !any {
        return Err(Fault::new(
            Code::Receiver,
            &["ActionNotSupported", "NoSuchService"],
            "This device serves the Device and Media services only",
        ));
    }
    out.push_str("</tds:Capabilities></tds:GetCapabilitiesResponse>");
    Ok(out)
}

/// The video source: the main stream's picture.
fn video_source(dev: &Device) -> (u32, u32, u32) {
    dev.streams
        .first()
        .map_or((0, 0, 0), |s| (s.width, s.height, s.fps))
}

fn stream<'a>(dev: &'a Device, token: Option<&str>) -> Result<&'a Stream, Fault> {
    let token = token.unwrap_or("");
    dev.streams
        .iter()
        .find(|s| s.token == token)
        .ok_or_else(|| Fault::no_profile(token))
}

fn video_source_configuration(dev: &Device) -> String {
    let (w, h, _) = video_source(dev);
    format!(
        "<tt:Name>Door camera</tt:Name><tt:UseCount>{}</tt:UseCount><tt:SourceToken>video_src\
         </tt:SourceToken><tt:Bounds x=\"0\" y=\"0\" width=\"{w}\" height=\"{h}\"/>",
        dev.streams.len()
    )
}

fn audio_source_configuration(dev: &Device) -> String {
    format!(
        "<tt:Name>Door microphone</tt:Name><tt:UseCount>{}</tt:UseCount><tt:SourceToken>audio_src\
         </tt:SourceToken>",
        dev.streams.len()
    )
}

const NO_MULTICAST: &str = "<tt:Multicast><tt:Address><tt:Type>IPv4</tt:Type><tt:IPv4Address>\
     0.0.0.0</tt:IPv4Address></tt:Address><tt:Port>0</tt:Port><tt:TTL>0</tt:TTL><tt:AutoStart>\
     false</tt:AutoStart></tt:Multicast>";

fn media1_profile(dev: &Device, s: &Stream) -> String {
    format!(
        "<trt:Profiles token=\"{token}\" fixed=\"true\"><tt:Name>{name}</tt:Name>\
         <tt:VideoSourceConfiguration token=\"video_src_config\">{vsc}</tt:VideoSourceConfiguration>\
         <tt:AudioSourceConfiguration token=\"audio_src_config\">{asc}</tt:AudioSourceConfiguration>\
         <tt:VideoEncoderConfiguration token=\"video_enc_{token}\"><tt:Name>{name}</tt:Name>\
         <tt:UseCount>1</tt:UseCount><tt:Encoding>H264</tt:Encoding><tt:Resolution><tt:Width>{w}\
         </tt:Width><tt:Height>{h}</tt:Height></tt:Resolution><tt:Quality>5</tt:Quality>\
         <tt:RateControl><tt:FrameRateLimit>{fps}</tt:FrameRateLimit><tt:EncodingInterval>1\
         </tt:EncodingInterval><tt:BitrateLimit>{kbps}</tt:BitrateLimit></tt:RateControl><tt:H264>\
         <tt:GovLength>{gov}</tt:GovLength><tt:H264Profile>Baseline</tt:H264Profile></tt:H264>\
         {NO_MULTICAST}<tt:SessionTimeout>PT60S</tt:SessionTimeout></tt:VideoEncoderConfiguration>\
         <tt:AudioEncoderConfiguration token=\"audio_enc\"><tt:Name>G.711</tt:Name><tt:UseCount>\
         {n}</tt:UseCount><tt:Encoding>G711</tt:Encoding><tt:Bitrate>64</tt:Bitrate><tt:SampleRate>\
         8</tt:SampleRate>{NO_MULTICAST}<tt:SessionTimeout>PT60S</tt:SessionTimeout>\
         </tt:AudioEncoderConfiguration></trt:Profiles>",
        token = e(&s.token),
        name = e(&s.name),
        vsc = video_source_configuration(dev),
        asc = audio_source_configuration(dev),
        w = s.width,
        h = s.height,
        fps = s.fps,
        kbps = s.bitrate_kbps,
        gov = s.fps.saturating_mul(2),
        n = dev.streams.len()
    )
}

fn media2_profile(dev: &Device, s: &Stream) -> String {
    format!(
        "<tr2:Profiles token=\"{token}\" fixed=\"true\"><tr2:Name>{name}</tr2:Name>\
         <tr2:Configurations><tr2:VideoSource token=\"video_src_config\">{vsc}</tr2:VideoSource>\
         <tr2:AudioSource token=\"audio_src_config\">{asc}</tr2:AudioSource>\
         <tr2:VideoEncoder token=\"video_enc_{token}\" GovLength=\"{gov}\" Profile=\"Baseline\">\
         <tt:Name>{name}</tt:Name><tt:UseCount>1</tt:UseCount><tt:Encoding>H264</tt:Encoding>\
         <tt:Resolution><tt:Width>{w}</tt:Width><tt:Height>{h}</tt:Height></tt:Resolution>\
         <tt:RateControl ConstantBitRate=\"false\"><tt:FrameRateLimit>{fps}</tt:FrameRateLimit>\
         <tt:BitrateLimit>{kbps}</tt:BitrateLimit></tt:RateControl><tt:Quality>5</tt:Quality>\
         </tr2:VideoEncoder><tr2:AudioEncoder token=\"audio_enc\"><tt:Name>G.711</tt:Name>\
         <tt:UseCount>{n}</tt:UseCount><tt:Encoding>PCMU</tt:Encoding><tt:Bitrate>64</tt:Bitrate>\
         <tt:SampleRate>8</tt:SampleRate></tr2:AudioEncoder></tr2:Configurations></tr2:Profiles>",
        token = e(&s.token),
        name = e(&s.name),
        vsc = video_source_configuration(dev),
        asc = audio_source_configuration(dev),
        w = s.width,
        h = s.height,
        fps = s.fps,
        kbps = s.bitrate_kbps,
        gov = s.fps.saturating_mul(2),
        n = dev.streams.len()
    )
}

/// `rtsp://HOST:PORT/cam/realmonitor?channel=1&subtype=N`, or the fault
/// of a device that serves no RTSP.
fn stream_uri(dev: &Device, s: &Stream) -> Result<String, Fault> {
    let base = dev.rtsp.as_deref().ok_or_else(|| {
        Fault::new(
            Code::Receiver,
            &["ActionNotSupported"],
            "RTSP is off on this device (vto --rtsp off): no stream to give",
        )
    })?;
    Ok(format!(
        "{base}/cam/realmonitor?channel=1&subtype={}",
        s.subtype
    ))
}

fn snapshot_uri(dev: &Device) -> String {
    format!("{}/cgi-bin/snapshot.cgi?channel=1", dev.http)
}

fn media_uri(uri: &str) -> String {
    format!(
        "<trt:MediaUri><tt:Uri>{}</tt:Uri><tt:InvalidAfterConnect>false</tt:InvalidAfterConnect>\
         <tt:InvalidAfterReboot>false</tt:InvalidAfterReboot><tt:Timeout>PT0S</tt:Timeout>\
         </trt:MediaUri>",
        e(uri)
    )
}

fn media(op: &str, req: &Request, dev: &Device) -> Result<String, Fault> {
    let a = &req.args;
    Ok(match op {
        "GetServiceCapabilities" => format!(
            "<trt:GetServiceCapabilitiesResponse>{}</trt:GetServiceCapabilitiesResponse>",
            media_capabilities("trt", dev)
        ),
        "GetProfiles" => {
            let mut out = String::from("<trt:GetProfilesResponse>");
            for s in &dev.streams {
                out.push_str(&media1_profile(dev, s));
            }
            out.push_str("</trt:GetProfilesResponse>");
            out
        }
        "GetProfile" => {
            let s = stream(dev, a.profile_token.as_deref())?;
            // GetProfile's element is `Profile`, not `Profiles`.
            let p = media1_profile(dev, s)
                .replacen("<trt:Profiles ", "<trt:Profile ", 1)
                .replace("</trt:Profiles>", "</trt:Profile>");
            format!("<trt:GetProfileResponse>{p}</trt:GetProfileResponse>")
        }
        "GetStreamUri" => {
            let s = stream(dev, a.profile_token.as_deref())?;
            match a.stream.as_deref() {
                None | Some("RTP-Unicast") => {}
                Some(other) => {
                    return Err(Fault::invalid_arg(
                        "InvalidStreamSetup",
                        format!("Only RTP-Unicast is served, not {other}"),
                    ))
                }
            }
            match a.protocol.as_deref() {
                None | Some("RTSP" | "UDP" | "TCP") => {}
                Some(other) => {
                    return Err(Fault::invalid_arg(
                        "InvalidStreamSetup",
                        format!("Only RTSP (TCP or UDP) is served, not {other}"),
                    ))
                }
            }
            format!(
                "<trt:GetStreamUriResponse>{}</trt:GetStreamUriResponse>",
                media_uri(&stream_uri(dev, s)?)
            )
        }
        "GetSnapshotUri" => {
            stream(dev, a.profile_token.as_deref())?;
            format!(
                "<trt:GetSnapshotUriResponse>{}</trt:GetSnapshotUriResponse>",
                media_uri(&snapshot_uri(dev))
            )
        }
        "GetVideoSources" => {
            let (w, h, fps) = video_source(dev);
            format!(
                "<trt:GetVideoSourcesResponse><trt:VideoSources token=\"video_src\"><tt:Framerate>\
                 {fps}</tt:Framerate><tt:Resolution><tt:Width>{w}</tt:Width><tt:Height>{h}\
                 </tt:Height></tt:Resolution></trt:VideoSources></trt:GetVideoSourcesResponse>"
            )
        }
        "GetAudioSources" => "<trt:GetAudioSourcesResponse><trt:AudioSources token=\"audio_src\">\
             <tt:Channels>1</tt:Channels></trt:AudioSources></trt:GetAudioSourcesResponse>"
            .to_string(),
        _ => return Err(Fault::action_not_supported(op)),
    })
}

fn media2(op: &str, req: &Request, dev: &Device) -> Result<String, Fault> {
    let a = &req.args;
    // Media2 names a profile by `Token` in GetProfiles, `ProfileToken`
    // elsewhere.
    Ok(match op {
        "GetServiceCapabilities" => format!(
            "<tr2:GetServiceCapabilitiesResponse>{}</tr2:GetServiceCapabilitiesResponse>",
            media_capabilities("tr2", dev)
        ),
        "GetProfiles" => {
            let mut out = String::from("<tr2:GetProfilesResponse>");
            let wanted = a.token.as_deref().or(a.profile_token.as_deref());
            let chosen: Vec<&Stream> = match wanted {
                Some(t) => vec![stream(dev, Some(t))?],
                None => dev.streams.iter().collect(),
            };
            for s in chosen {
                out.push_str(&media2_profile(dev, s));
            }
            out.push_str("</tr2:GetProfilesResponse>");
            out
        }
        "GetStreamUri" => {
            let s = stream(dev, a.profile_token.as_deref())?;
            match a.protocol.as_deref() {
                None | Some("RtspUnicast" | "RTSP") => {}
                Some(other) => {
                    return Err(Fault::invalid_arg(
                        "InvalidStreamSetup",
                        format!("Only RtspUnicast is served, not {other}"),
                    ))
                }
            }
            format!(
                "<tr2:GetStreamUriResponse><tr2:Uri>{}</tr2:Uri></tr2:GetStreamUriResponse>",
                e(&stream_uri(dev, s)?)
            )
        }
        "GetSnapshotUri" => {
            stream(dev, a.profile_token.as_deref())?;
            format!(
                "<tr2:GetSnapshotUriResponse><tr2:Uri>{}</tr2:Uri></tr2:GetSnapshotUriResponse>",
                e(&snapshot_uri(dev))
            )
        }
        _ => return Err(Fault::action_not_supported(op)),
    })
}

#[cfg(test)]
mod tests;
