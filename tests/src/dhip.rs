//! A DHIP client written from the documented protocol
//! (`../shared/guide/dahua-interop.md`), independent of the device's own
//! `dahua` crate: 32-byte little-endian header, compact JSON and `\n`,
//! the two-step login with Dahua's hash. Reads frames by the header and
//! also checks what the newline-splitting clients need (one message per
//! frame, ASCII, no raw newline inside).

#![allow(clippy::expect_used)]

use std::{net::SocketAddr, time::Duration};

use serde_json::{json, Value};
use sip::digest::Algorithm;
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};

pub struct DhipClient {
    stream: TcpStream,
    pub session: u64,
    next_id: u64,
}

fn md5_upper(s: &str) -> String {
    Algorithm::Md5.hash(s).to_ascii_uppercase()
}

impl DhipClient {
    pub async fn connect(addr: SocketAddr) -> Self {
        let stream = TcpStream::connect(addr).await.expect("connect to DHIP");
        DhipClient {
            stream,
            session: 0,
            next_id: 1,
        }
    }

    /// Sends `method` with `params` (and `object`), returns the request id.
    pub async fn send(&mut self, method: &str, params: Value, object: Option<u64>) -> u64 {
        let id = self.next_id;
        self.next_id += 1;
        let mut msg =
            json!({"id": id, "method": method, "params": params, "session": self.session});
        if let Some(o) = object {
            msg["object"] = json!(o);
        }
        let mut body = serde_json::to_vec(&msg).expect("json");
        body.push(b'\n');
        let len = u32::try_from(body.len()).expect("short");
        let mut frame = vec![0x20, 0, 0, 0, b'D', b'H', b'I', b'P'];
        for word in [
            u32::try_from(self.session).unwrap_or(0),
            u32::try_from(id).unwrap_or(0),
            len,
            0,
            len,
            0,
        ] {
            frame.extend_from_slice(&word.to_le_bytes());
        }
        frame.extend_from_slice(&body);
        self.stream.write_all(&frame).await.expect("write");
        id
    }

    /// The next message within `secs`; `None` when the device closed.
    pub async fn recv(&mut self, secs: u64) -> Option<Value> {
        let read = async {
            let mut header = [0u8; 32];
            self.stream.read_exact(&mut header).await.ok()?;
            assert_eq!(&header[..8], b"\x20\0\0\0DHIP", "magic");
            let word = |i: usize| {
                u32::from_le_bytes([header[i], header[i + 1], header[i + 2], header[i + 3]])
            };
            assert_eq!(word(16), word(24), "both lengths");
            let mut body = vec![0u8; word(16) as usize];
            self.stream.read_exact(&mut body).await.ok()?;
            assert_eq!(body.last(), Some(&b'\n'), "a frame ends with a newline");
            let text = &body[..body.len() - 1];
            assert!(
                text.iter().all(|b| (0x20..0x7f).contains(b)),
                "printable ASCII, no raw newline: {}",
                String::from_utf8_lossy(text)
            );
            Some(serde_json::from_slice::<Value>(text).expect("JSON"))
        };
        tokio::time::timeout(Duration::from_secs(secs), read)
            .await
            .unwrap_or_else(|_| panic!("no DHIP message within {secs} s"))
    }

    /// The reply to request `id`, skipping event notifications.
    pub async fn reply(&mut self, id: u64) -> Value {
        loop {
            let m = self.recv(10).await.expect("a reply, not a close");
            if m["id"] == id && m.get("method").is_none() {
                return m;
            }
        }
    }

    /// Logs in as `user`: the challenge, then the hash. The second reply.
    pub async fn login(&mut self, user: &str, password: &str) -> Value {
        let id = self
            .send(
                "global.login",
                json!({"userName": user, "password": "", "clientType": "Dahua3.0-Web3.0"}),
                None,
            )
            .await;
        let challenge = self.reply(id).await;
        assert_eq!(challenge["error"]["code"], 268_632_079, "{challenge}");
        self.session = challenge["session"].as_u64().expect("session");
        let realm = challenge["params"]["realm"].as_str().expect("realm");
        let random = challenge["params"]["random"].as_str().expect("random");
        let ha1 = md5_upper(&format!("{user}:{realm}:{password}"));
        let hash = md5_upper(&format!("{user}:{random}:{ha1}"));
        let id = self
            .send(
                "global.login",
                json!({"userName": user, "password": hash, "clientType": "Dahua3.0-Web3.0", "authorityType": "Default", "passwordType": "Default"}),
                None,
            )
            .await;
        self.reply(id).await
    }

    /// `method` and its reply.
    pub async fn call(&mut self, method: &str, params: Value, object: Option<u64>) -> Value {
        let id = self.send(method, params, object).await;
        self.reply(id).await
    }
}
