use super::*;

const SDP: &str = "192.168.1.150:15000";

fn addr(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

fn header(payload_type: u8, ssrc: u32) -> Header {
    Header {
        marker: false,
        payload_type,
        sequence: 1,
        timestamp: 0,
        ssrc,
    }
}

fn latch() -> Latch {
    Latch::new(addr(SDP), &[0, 101], None)
}

#[test]
fn sends_to_the_sdp_address_until_the_peer_sends() {
    let l = latch();
    assert_eq!((l.destination(), l.ssrc()), (addr(SDP), None));
}

/// The peer's packets from another port (NAT, or a device that sends from
/// another socket than it wrote) move the media there.
#[test]
fn learns_the_peers_source_port() {
    let mut l = latch();
    assert!(l.accept(addr("192.168.1.150:40000"), &header(0, 7)));
    assert_eq!(
        (l.destination(), l.ssrc()),
        (addr("192.168.1.150:40000"), Some(7))
    );
    // Its telephone events too; then a NAT rebinding with the same SSRC.
    assert!(l.accept(addr("192.168.1.150:40000"), &header(101, 7)));
    assert!(l.accept(addr("192.168.1.150:40002"), &header(0, 7)));
    assert_eq!(l.destination(), addr("192.168.1.150:40002"));
}

/// Another IP address never moves the media and is never played, even
/// with the peer's SSRC and payload type, before or after learning.
#[test]
fn a_stranger_cannot_redirect_the_media() {
    let mut l = latch();
    assert!(!l.accept(addr("192.168.1.66:15000"), &header(0, 7)));
    assert_eq!((l.destination(), l.ssrc()), (addr(SDP), None));
    assert!(l.accept(addr(SDP), &header(0, 7)));
    assert!(!l.accept(addr("192.168.1.66:15000"), &header(0, 7)));
    assert!(!l.accept(addr("[fe80::1]:15000"), &header(0, 7)));
    assert_eq!(l.destination(), addr(SDP));
}

#[test]
fn only_agreed_payload_types() {
    let mut l = latch();
    assert!(!l.accept(addr("192.168.1.150:40000"), &header(8, 7)));
    assert_eq!((l.destination(), l.ssrc()), (addr(SDP), None));
}

/// Once an SSRC is known, another is taken only from the learned address
/// (the peer restarting its stream), not from another port of the same
/// host.
#[test]
fn a_new_ssrc_only_from_the_learned_address() {
    let mut l = latch();
    assert!(l.accept(addr("192.168.1.150:40000"), &header(0, 7)));
    assert!(!l.accept(addr("192.168.1.150:40004"), &header(0, 8)));
    assert_eq!(l.destination(), addr("192.168.1.150:40000"));
    assert!(l.accept(addr("192.168.1.150:40000"), &header(0, 8)));
    assert_eq!(l.ssrc(), Some(8));
    // The SDP's SSRC is required from the first packet.
    let mut l = Latch::new(addr(SDP), &[0], Some(9));
    assert!(!l.accept(addr("192.168.1.150:40000"), &header(0, 7)));
    assert!(l.accept(addr("192.168.1.150:40000"), &header(0, 9)));
}

/// A dual-stack socket reports IPv4 peers as IPv4-mapped IPv6.
#[test]
fn ipv4_mapped_sources_are_the_same_host() {
    let mut l = latch();
    assert!(l.accept(addr("[::ffff:192.168.1.150]:40000"), &header(0, 7)));
    assert!(!l.accept(addr("[::ffff:192.168.1.151]:40000"), &header(0, 7)));
}
