use super::*;
use crate::{soap::parse, wsse};

fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn device() -> Device {
    Device {
        manufacturer: "vto".into(),
        model: "VTO-vto".into(),
        firmware: "0.1.0".into(),
        serial: "7KQ2M9XWD4TZB".into(),
        hardware_id: "x86_64".into(),
        name: "Door 8001".into(),
        hostname: "vto".into(),
        http: "http://127.0.0.1:8080".into(),
        rtsp: Some("rtsp://127.0.0.1:8554".into()),
        address: "127.0.0.1".into(),
        streams: vec![
            Stream {
                token: "main".into(),
                name: "Main stream".into(),
                subtype: 0,
                width: 1280,
                height: 720,
                fps: 25,
                bitrate_kbps: 2048,
            },
            Stream {
                token: "sub".into(),
                name: "Sub stream".into(),
                subtype: 1,
                width: 640,
                height: 360,
                fps: 15,
                bitrate_kbps: 512,
            },
        ],
        now: 1_796_538_669, // 2026-12-06T06:31:09Z
        ntp: false,
    }
}

fn answer_to(name: &str, dev: &Device) -> Result<String, Fault> {
    let req = parse(&fixture(name)).unwrap_or_else(|f| panic!("{f:?}"));
    answer(&req, dev)
}

fn texts<'a>(doc: &'a roxmltree::Document<'a>, local: &str) -> Vec<&'a str> {
    doc.descendants()
        .filter(|n| n.is_element() && n.tag_name().name() == local)
        .map(|n| n.text().unwrap_or(""))
        .collect()
}

#[test]
fn the_clock_before_authentication() {
    let text =
        answer_to("zeep-GetSystemDateAndTime.xml", &device()).unwrap_or_else(|f| panic!("{f:?}"));
    let doc = roxmltree::Document::parse(&text).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(texts(&doc, "Hour"), ["6"]);
    assert_eq!(texts(&doc, "Minute"), ["31"]);
    assert_eq!(texts(&doc, "Year"), ["2026"]);
    assert_eq!(texts(&doc, "Day"), ["6"]);
    assert_eq!(
        access(Service::Device, "GetSystemDateAndTime"),
        Access::Public
    );
    assert_eq!(access(Service::Device, "GetServices"), Access::Public);
    assert_eq!(
        access(Service::Device, "GetDeviceInformation"),
        Access::View
    );
    assert_eq!(access(Service::Media, "GetSnapshotUri"), Access::Snapshot);
    assert_eq!(
        access(Service::Other, "GetServiceCapabilities"),
        Access::View
    );
}

#[test]
fn zeeps_token_proves_the_password_it_was_made_with() {
    let req = parse(&fixture("zeep-GetStreamUri.xml")).unwrap_or_else(|f| panic!("{f:?}"));
    let token = req.token.unwrap_or_else(|| panic!("no token"));
    let mut replay = wsse::Replay::default();
    let now = device().now;
    assert_eq!(
        wsse::check(&token, "onvif", "secret", now, &mut replay),
        Ok(())
    );
    assert_eq!(
        wsse::check(&token, "onvif", "secret", now, &mut replay),
        Err(wsse::Refused::Replayed)
    );
    let mut replay = wsse::Replay::default();
    assert_eq!(
        wsse::check(&token, "onvif", "Secret", now, &mut replay),
        Err(wsse::Refused::WrongPassword)
    );
}

#[test]
fn services_point_at_the_address_reached() {
    let text = answer_to("zeep-GetServices.xml", &device()).unwrap_or_else(|f| panic!("{f:?}"));
    let doc = roxmltree::Document::parse(&text).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        texts(&doc, "XAddr"),
        [
            "http://127.0.0.1:8080/onvif/device_service",
            "http://127.0.0.1:8080/onvif/media_service",
            "http://127.0.0.1:8080/onvif/media2_service"
        ]
    );
    assert_eq!(texts(&doc, "Namespace")[2], ns::MEDIA2);
    assert!(!text.contains("<tds:Capabilities>"));
    let caps = answer_to("zeep-GetCapabilities.xml", &device()).unwrap_or_else(|f| panic!("{f:?}"));
    let doc = roxmltree::Document::parse(&caps).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        texts(&doc, "XAddr"),
        [
            "http://127.0.0.1:8080/onvif/device_service",
            "http://127.0.0.1:8080/onvif/media_service"
        ]
    );
}

#[test]
fn device_information() {
    let text =
        answer_to("zeep-GetDeviceInformation.xml", &device()).unwrap_or_else(|f| panic!("{f:?}"));
    let doc = roxmltree::Document::parse(&text).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(texts(&doc, "SerialNumber"), ["7KQ2M9XWD4TZB"]);
    assert_eq!(texts(&doc, "Model"), ["VTO-vto"]);
    assert_eq!(texts(&doc, "FirmwareVersion"), ["0.1.0"]);
}

#[test]
fn two_profiles_h264_and_g711() {
    let text = answer_to("zeep-GetProfiles.xml", &device()).unwrap_or_else(|f| panic!("{f:?}"));
    let doc = roxmltree::Document::parse(&text).unwrap_or_else(|e| panic!("{e}"));
    let profiles: Vec<&str> = doc
        .descendants()
        .filter(|n| n.tag_name().name() == "Profiles")
        .filter_map(|n| n.attribute("token"))
        .collect();
    assert_eq!(profiles, ["main", "sub"]);
    assert_eq!(texts(&doc, "Width"), ["1280", "640"]);
    assert_eq!(texts(&doc, "Height"), ["720", "360"]);
    assert_eq!(texts(&doc, "FrameRateLimit"), ["25", "15"]);
    assert_eq!(texts(&doc, "Encoding"), ["H264", "G711", "H264", "G711"]);
    assert_eq!(texts(&doc, "SampleRate"), ["8", "8"]);
}

#[test]
fn stream_and_snapshot_uris() {
    let text = answer_to("zeep-GetStreamUri.xml", &device()).unwrap_or_else(|f| panic!("{f:?}"));
    let doc = roxmltree::Document::parse(&text).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        texts(&doc, "Uri"),
        ["rtsp://127.0.0.1:8554/cam/realmonitor?channel=1&subtype=0"]
    );
    let text =
        answer_to("zeep-media2-GetStreamUri.xml", &device()).unwrap_or_else(|f| panic!("{f:?}"));
    let doc = roxmltree::Document::parse(&text).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        texts(&doc, "Uri"),
        ["rtsp://127.0.0.1:8554/cam/realmonitor?channel=1&subtype=1"]
    );
    let text = answer_to("zeep-GetSnapshotUri.xml", &device()).unwrap_or_else(|f| panic!("{f:?}"));
    let doc = roxmltree::Document::parse(&text).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        texts(&doc, "Uri"),
        ["http://127.0.0.1:8080/cgi-bin/snapshot.cgi?channel=1"]
    );
    // No RTSP: a clear fault, not an address that leads nowhere.
    let mut off = device();
    off.rtsp = None;
    let f = answer_to("zeep-GetStreamUri.xml", &off)
        .err()
        .unwrap_or_else(|| panic!("answered"));
    assert_eq!(f.code, Code::Receiver);
    assert!(f.reason.contains("--rtsp off"), "{}", f.reason);
}

fn request(service_ns: &str, body: &str) -> Request {
    let text = format!(
        "<s:Envelope xmlns:s=\"{}\" xmlns:x=\"{service_ns}\" xmlns:tt=\"{}\"><s:Body>{body}</s:Body></s:Envelope>",
        ns::SOAP12,
        ns::SCHEMA
    );
    parse(text.as_bytes()).unwrap_or_else(|f| panic!("{f:?}"))
}

#[test]
fn media2_profiles_and_faults() {
    let dev = device();
    let r = answer(
        &request(
            ns::MEDIA2,
            "<x:GetProfiles><x:Type>All</x:Type></x:GetProfiles>",
        ),
        &dev,
    )
    .unwrap_or_else(|f| panic!("{f:?}"));
    let doc = roxmltree::Document::parse(&r).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(texts(&doc, "Width"), ["1280", "640"]);
    assert_eq!(texts(&doc, "Encoding"), ["H264", "PCMU", "H264", "PCMU"]);
    let r = answer(
        &request(
            ns::MEDIA2,
            "<x:GetProfiles><x:Token>sub</x:Token></x:GetProfiles>",
        ),
        &dev,
    )
    .unwrap_or_else(|f| panic!("{f:?}"));
    assert!(r.contains("token=\"sub\"") && !r.contains("token=\"main\""));
    for (service, body, sub) in [
        (ns::MEDIA2, "<x:GetProfiles><x:Token>nope</x:Token></x:GetProfiles>", "NoProfile"),
        (ns::MEDIA, "<x:GetStreamUri><x:ProfileToken>nope</x:ProfileToken></x:GetStreamUri>", "NoProfile"),
        (ns::MEDIA, "<x:GetSnapshotUri/>", "NoProfile"),
        (
            ns::MEDIA,
            "<x:GetStreamUri><x:StreamSetup><tt:Stream>RTP-Multicast</tt:Stream></x:StreamSetup><x:ProfileToken>main</x:ProfileToken></x:GetStreamUri>",
            "InvalidStreamSetup",
        ),
        (
            ns::MEDIA2,
            "<x:GetStreamUri><x:Protocol>RtspOverHttp</x:Protocol><x:ProfileToken>main</x:ProfileToken></x:GetStreamUri>",
            "InvalidStreamSetup",
        ),
    ] {
        let f = answer(&request(service, body), &dev).err().unwrap_or_else(|| panic!("{body}"));
        assert_eq!((f.code, f.subcodes.last().copied()), (Code::Sender, Some(sub)), "{body}");
    }
}

#[test]
fn unknown_operations_are_not_supported() {
    let dev = device();
    for (service, body) in [
        (ns::DEVICE, "<x:SystemReboot/>"),
        (ns::MEDIA, "<x:SetVideoEncoderConfiguration/>"),
        (
            "http://www.onvif.org/ver10/events/wsdl",
            "<x:CreatePullPointSubscription/>",
        ),
    ] {
        let f = answer(&request(service, body), &dev)
            .err()
            .unwrap_or_else(|| panic!("{body}"));
        assert_eq!(f.code, Code::Receiver);
        assert_eq!(f.subcodes, ["ActionNotSupported"]);
    }
    let f = answer(
        &request(
            ns::DEVICE,
            "<x:GetCapabilities><x:Category>PTZ</x:Category></x:GetCapabilities>",
        ),
        &dev,
    )
    .err()
    .unwrap_or_else(|| panic!("PTZ"));
    assert_eq!(f.subcodes, ["ActionNotSupported", "NoSuchService"]);
}

#[test]
fn the_other_device_and_media_answers_read_back() {
    let dev = device();
    for (service, body, wants) in [
        (
            ns::DEVICE,
            "<x:GetScopes/>",
            "onvif://www.onvif.org/name/Door%208001",
        ),
        (ns::DEVICE, "<x:GetHostname/>", "<tt:Name>vto</tt:Name>"),
        (
            ns::DEVICE,
            "<x:GetNetworkInterfaces/>",
            "<tt:Address>127.0.0.1</tt:Address>",
        ),
        (
            ns::DEVICE,
            "<x:GetServiceCapabilities/>",
            "UsernameToken=\"true\"",
        ),
        (
            ns::DEVICE,
            "<x:GetServices><x:IncludeCapability>true</x:IncludeCapability></x:GetServices>",
            "<tds:Capabilities><trt:Capabilities",
        ),
        (
            ns::MEDIA,
            "<x:GetServiceCapabilities/>",
            "SnapshotUri=\"true\"",
        ),
        (
            ns::MEDIA2,
            "<x:GetServiceCapabilities/>",
            "RTSPStreaming=\"true\"",
        ),
        (
            ns::MEDIA,
            "<x:GetVideoSources/>",
            "<tt:Width>1280</tt:Width>",
        ),
        (
            ns::MEDIA,
            "<x:GetAudioSources/>",
            "<tt:Channels>1</tt:Channels>",
        ),
        (
            ns::MEDIA,
            "<x:GetProfile><x:ProfileToken>sub</x:ProfileToken></x:GetProfile>",
            "<trt:Profile token=\"sub\"",
        ),
        (
            ns::MEDIA2,
            "<x:GetSnapshotUri><x:ProfileToken>main</x:ProfileToken></x:GetSnapshotUri>",
            "snapshot.cgi",
        ),
    ] {
        let r = answer(&request(service, body), &dev).unwrap_or_else(|f| panic!("{body}: {f:?}"));
        assert!(roxmltree::Document::parse(&r).is_ok(), "{r}");
        assert!(r.contains(wants), "{body}: {r}");
    }
    // Names that need escaping stay well-formed.
    let mut odd = dev.clone();
    odd.model = "<&\"'>".into();
    let r = answer(&request(ns::DEVICE, "<x:GetDeviceInformation/>"), &odd)
        .unwrap_or_else(|f| panic!("{f:?}"));
    let doc = roxmltree::Document::parse(&r).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(texts(&doc, "Model"), ["<&\"'>"]);
    // SOAP 1.1 in, SOAP 1.1 out.
    let text = format!(
        "<s:Envelope xmlns:s=\"{}\"><s:Body><GetHostname xmlns=\"{}\"/></s:Body></s:Envelope>",
        ns::SOAP11,
        ns::DEVICE
    );
    let r = answer(
        &parse(text.as_bytes()).unwrap_or_else(|f| panic!("{f:?}")),
        &dev,
    )
    .unwrap_or_else(|f| panic!("{f:?}"));
    assert!(r.contains(ns::SOAP11));
}
