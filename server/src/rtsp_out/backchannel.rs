//! The ONVIF audio backchannel (ONVIF Streaming Specification 5.3): the
//! client's G.711 RTP, interleaved on the RTSP connection or over UDP to
//! the track's server port, played on the door's speaker through the
//! intercom's [`TalkBack`] (which applies the one-talker rule).

use std::{
    net::IpAddr,
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc,
    },
};

use media::g711::Law;
use tokio::net::UdpSocket;

use crate::intercom::talk_back::TalkBack;

/// Plays one RTP packet of the backchannel; anything but PCMU or PCMA
/// (what the SDP offers, and its sibling) is dropped.
pub fn play(talk: &mut TalkBack, packet: &[u8]) {
    let Ok(p) = media::rtp::parse(packet) else {
        return;
    };
    let law = match p.header.payload_type {
        0 => Law::Ulaw,
        8 => Law::Alaw,
        _ => return,
    };
    talk.play(law, p.payload);
}

/// Receives the backchannel over UDP from the client's own address (any
/// other sender is ignored); each packet keeps the session alive.
pub async fn receive_udp(
    sock: Arc<UdpSocket>,
    peer: IpAddr,
    mut talk: TalkBack,
    heard: Arc<AtomicU64>,
    epoch: tokio::time::Instant,
) {
    let mut buf = [0u8; 2048];
    while let Ok((n, from)) = sock.recv_from(&mut buf).await {
        if from.ip().to_canonical() != peer {
            continue;
        }
        heard.store(crate::clock::millis_since(epoch), Ordering::Relaxed);
        play(&mut talk, &buf[..n]);
    }
}
