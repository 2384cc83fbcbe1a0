use super::*;

/// A connection's bytes from `tests/fixtures/`.
pub(crate) fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Every unit of `bytes` pushed in the given pieces, and the error that
/// stopped the reader if one did.
fn read_chunked(pieces: &[&[u8]]) -> (Vec<Incoming>, Option<Error>) {
    let mut r = Reader::new();
    let mut out = Vec::new();
    for piece in pieces {
        r.push(piece);
        loop {
            match r.next() {
                Ok(Some(u)) => out.push(u),
                Ok(None) => break,
                Err(e) => return (out, Some(e)),
            }
        }
    }
    (out, None)
}

fn read_all(bytes: &[u8]) -> Vec<Incoming> {
    let (units, err) = read_chunked(&[bytes]);
    assert_eq!(err, None);
    units
}

fn requests(units: &[Incoming]) -> Vec<&Request> {
    units
        .iter()
        .filter_map(|u| match u {
            Incoming::Request(r) => Some(r),
            Incoming::Interleaved { .. } => None,
        })
        .collect()
}

/// Split in two at every byte boundary, and fed a byte at a time: the
/// same units (or the same error) as fed whole.
fn assert_any_split_reads_the_same(bytes: &[u8]) {
    let whole = read_chunked(&[bytes]);
    for i in 0..=bytes.len() {
        assert_eq!(
            read_chunked(&[&bytes[..i], &bytes[i..]]),
            whole,
            "split at {i}"
        );
    }
    let bytewise: Vec<&[u8]> = bytes.chunks(1).collect();
    assert_eq!(read_chunked(&bytewise), whole, "a byte at a time");
}

const FIXTURES: [&str; 8] = [
    "ffmpeg-tcp.raw",
    "ffmpeg-udp.raw",
    "gstreamer-tcp.raw",
    "gstreamer-udp.raw",
    "gstreamer-backchannel.raw",
    "vlc-live555-udp.txt",
    "dahua-nvr-tcp.txt",
    "go2rtc-backchannel.txt",
];

#[test]
fn every_fixture_reads_whole_and_at_any_split() {
    for name in FIXTURES {
        let bytes = fixture(name);
        let units = read_all(&bytes);
        assert!(requests(&units).len() >= 6, "{name}");
        // CSeq counts up by one through each conversation.
        let cseqs: Vec<u32> = requests(&units).iter().map(|r| r.cseq).collect();
        assert!(
            cseqs.windows(2).all(|w| w[1] == w[0] + 1),
            "{name}: {cseqs:?}"
        );
        assert!(
            requests(&units)
                .iter()
                .all(|r| r.version == Version::RTSP_1_0 && r.body.is_empty()),
            "{name}"
        );
        assert_any_split_reads_the_same(&bytes);
    }
}

#[test]
fn ffmpeg_over_tcp() {
    let units = read_all(&fixture("ffmpeg-tcp.raw"));
    let reqs = requests(&units);
    let methods: Vec<&str> = reqs.iter().map(|r| r.method.as_str()).collect();
    assert_eq!(
        methods,
        [
            "OPTIONS",
            "DESCRIBE",
            "SETUP",
            "SETUP",
            "PLAY",
            "GET_PARAMETER",
            "GET_PARAMETER",
            "TEARDOWN"
        ]
    );
    let describe = reqs[1];
    assert_eq!(describe.method, Method::Describe);
    assert_eq!(
        describe.url,
        "rtsp://127.0.0.1:18554/cam/realmonitor?channel=1&subtype=0"
    );
    assert_eq!(describe.header("accept"), Some("application/sdp"));
    assert_eq!(describe.header("USER-AGENT"), Some("Lavf59.27.100"));
    assert_eq!(describe.cseq, 2);
    assert_eq!(describe.session_id(), None);
    let setup = reqs[3];
    assert_eq!(
        setup.url,
        "rtsp://127.0.0.1:18554/cam/realmonitor?channel=1&subtype=0/trackID=1"
    );
    assert_eq!(
        setup.header("Transport"),
        Some("RTP/AVP/TCP;unicast;interleaved=2-3")
    );
    assert_eq!(setup.session_id(), Some("6BC3A1D2E4F5"));
    assert_eq!(reqs[4].header("Range"), Some("npt=0.000-"));
}

#[test]
fn gstreamer_over_tcp_with_rtcp_between_requests() {
    let units = read_all(&fixture("gstreamer-tcp.raw"));
    // GStreamer's first OPTIONS poses as RealMedia too: two User-Agents.
    let Incoming::Request(options) = &units[0] else {
        panic!("{:?}", units[0]);
    };
    assert_eq!(options.header("User-Agent"), Some("GStreamer/1.22.0"));
    assert_eq!(options.headers.get_all("user-agent").count(), 2);
    assert_eq!(
        options.header("ClientChallenge"),
        Some("9e26d33f2984236010ef6253fb1887f7")
    );
    // Receiver reports on the RTCP channels of both tracks, then TEARDOWN
    // right after the last frame.
    let frames: Vec<(u8, usize)> = units
        .iter()
        .filter_map(|u| match u {
            Incoming::Interleaved { channel, payload } => Some((*channel, payload.len())),
            Incoming::Request(_) => None,
        })
        .collect();
    assert_eq!(frames, [(3, 84), (1, 84), (3, 84), (1, 84)]);
    for u in &units {
        if let Incoming::Interleaved { payload, .. } = u {
            // RTCP version 2, a receiver report (201) first.
            assert_eq!((payload[0] >> 6, payload[1]), (2, 201));
        }
    }
    let Some(Incoming::Request(last)) = units.last() else {
        panic!("no TEARDOWN last");
    };
    assert_eq!(last.method, Method::Teardown);
    assert_eq!(last.url, "rtsp://127.0.0.1:18554/live/main/");
}

#[test]
fn onvif_backchannel_requires() {
    let units = read_all(&fixture("gstreamer-backchannel.raw"));
    let reqs = requests(&units);
    assert_eq!(
        reqs[1].requires().collect::<Vec<_>>(),
        ["www.onvif.org/ver20/backchannel"]
    );
    assert!(reqs[1].requires_tag("WWW.ONVIF.ORG/ver20/backchannel"));
    assert!(!reqs[2].requires_tag("www.onvif.org/ver20/backchannel"));
    assert_eq!(reqs[4].url, "rtsp://127.0.0.1:18554/cam/trackID=2");
    assert!(reqs[4].requires_tag("www.onvif.org/ver20/backchannel"));
}

#[test]
fn lenient_where_clients_are_sloppy() {
    // Bare LF, blank lines before and between requests, odd spacing and
    // case, a folded header, a session with its timeout.
    let bytes = b"\r\n\nOPTIONS  rtsp://10.0.0.2/live   RTSP/1.0\n\
        cseq:5   \n\
        X-Folded: one\n  two\n\tthree\n\
        Session:  ABC ; timeout=60\n\n\
        \r\n\
        GET_PARAMETER * RTSP/1.0\r\nCSeq: 6\r\ncontent-LENGTH: 10\r\nContent-Type: text/parameters\r\n\r\nposition\r\n";
    let units = read_all(bytes);
    let reqs = requests(&units);
    assert_eq!(reqs.len(), 2);
    assert_eq!(reqs[0].url, "rtsp://10.0.0.2/live");
    assert_eq!(reqs[0].cseq, 5);
    assert_eq!(reqs[0].header("x-folded"), Some("one two three"));
    assert_eq!(reqs[0].session_id(), Some("ABC"));
    assert_eq!(reqs[1].method, Method::GetParameter);
    assert_eq!(reqs[1].url, "*");
    assert_eq!(&reqs[1].body[..], b"position\r\n");
    assert_any_split_reads_the_same(bytes);
}

#[test]
fn methods_and_versions() {
    for (m, want) in [
        ("ANNOUNCE", Method::Announce),
        ("RECORD", Method::Record),
        ("REDIRECT", Method::Redirect),
        ("SET_PARAMETER", Method::SetParameter),
        ("PAUSE", Method::Pause),
        ("FLUSH", Method::Other("FLUSH".into())),
        // Method names are case-sensitive: this is another method.
        ("play", Method::Other("play".into())),
    ] {
        let r = Request::parse(format!("{m} rtsp://h/live RTSP/1.0\r\nCSeq: 1\r\n\r\n").as_bytes())
            .unwrap();
        assert_eq!(r.method, want);
        assert_eq!(r.method.to_string(), m);
    }
    let r = Request::parse(b"OPTIONS * RTSP/2.0\r\nCSeq: 1\r\n\r\n").unwrap();
    assert_eq!(r.version, Version { major: 2, minor: 0 });
    assert_eq!(r.version.to_string(), "RTSP/2.0");
    for bad in [
        &b"OPTIONS * HTTP/1.1\r\nCSeq: 1\r\n\r\n"[..],
        b"OPTIONS * RTSP/1\r\nCSeq: 1\r\n\r\n",
        b"OPTIONS * RTSP/1.x\r\nCSeq: 1\r\n\r\n",
        b"OPTIONS *\r\nCSeq: 1\r\n\r\n",
        b"OPTIONS * RTSP/1.0 extra\r\nCSeq: 1\r\n\r\n",
        b"OPT(IONS * RTSP/1.0\r\nCSeq: 1\r\n\r\n",
        b"OPTIONS * RTSP/1.0\r\nno colon here\r\nCSeq: 1\r\n\r\n",
        b"OPTIONS * RTSP/1.0\r\n bad fold\r\nCSeq: 1\r\n\r\n",
        b"OPTIONS * RTSP/1.0\r\nBad Name: x\r\nCSeq: 1\r\n\r\n",
        b"OPTIONS rtsp://h/\x01 RTSP/1.0\r\nCSeq: 1\r\n\r\n",
        b"OPTIONS * RTSP/1.0\r\nX: \xff\xfe\r\nCSeq: 1\r\n\r\n",
    ] {
        assert!(
            matches!(Request::parse(bad), Err(Error::Malformed(_))),
            "{:?}: {:?}",
            String::from_utf8_lossy(bad),
            Request::parse(bad)
        );
    }
}

#[test]
fn request_parse_takes_one_whole_request() {
    assert!(Request::parse(b"OPTIONS * RTSP/1.0\r\nCSeq: 1\r\n\r\n\r\n").is_ok());
    assert_eq!(
        Request::parse(b"OPTIONS * RTSP/1.0\r\nCSeq: 1\r\n\r\nOPT"),
        Err(Error::Malformed("bytes after the request"))
    );
    assert_eq!(
        Request::parse(b"OPTIONS * RTSP/1.0\r\nCSeq: 1\r\n"),
        Err(Error::Malformed("incomplete request"))
    );
    assert_eq!(
        Request::parse(b"$\x00\x00\x00"),
        Err(Error::Malformed("an interleaved frame"))
    );
}

#[test]
fn cseq_is_required_and_its_error_answers_400() {
    for bad in [
        &b"OPTIONS * RTSP/1.0\r\nUser-Agent: x\r\n\r\n"[..],
        b"OPTIONS * RTSP/1.0\r\nCSeq: one\r\n\r\n",
        b"OPTIONS * RTSP/1.0\r\nCSeq: -1\r\n\r\n",
        b"OPTIONS * RTSP/1.0\r\nCSeq: 99999999999\r\n\r\n",
        b"OPTIONS * RTSP/1.0\r\nCSeq:\r\n\r\n",
    ] {
        let e = Request::parse(bad).unwrap_err();
        assert_eq!(e, Error::MissingCSeq);
        assert_eq!(e.status(), 400);
        assert_eq!(
            &e.response().to_bytes()[..],
            b"RTSP/1.0 400 Bad Request\r\n\r\n"
        );
    }
    let e =
        Request::parse(b"DESCRIBE * RTSP/1.0\r\nCSeq: 7\r\nContent-Length: x\r\n\r\n").unwrap_err();
    assert_eq!(e, Error::ContentLength { cseq: 7 });
    assert_eq!(
        &e.response().to_bytes()[..],
        b"RTSP/1.0 400 Bad Request\r\nCSeq: 7\r\n\r\n"
    );
}

#[test]
fn sizes_are_bounded() {
    // A header section of exactly MAX_HEADER bytes is read; one more is not.
    let head = |len: usize| {
        let start = "OPTIONS * RTSP/1.0\r\nCSeq: 1\r\nX: ";
        let pad = len - start.len() - 4;
        format!("{start}{}\r\n\r\n", "a".repeat(pad)).into_bytes()
    };
    assert_eq!(head(MAX_HEADER).len(), MAX_HEADER);
    assert!(Request::parse(&head(MAX_HEADER)).is_ok());
    assert_eq!(
        Request::parse(&head(MAX_HEADER + 1)),
        Err(Error::HeaderTooLarge)
    );
    // Without an end in sight the reader stops buffering at the limit.
    let mut r = Reader::new();
    r.push(b"OPTIONS * RTSP/1.0\r\nX: ");
    let mut n = 0;
    let err = loop {
        r.push(&[b'a'; 100]);
        n += 100;
        match r.next() {
            Ok(None) => assert!(n <= MAX_HEADER),
            other => break other,
        }
    };
    assert_eq!(err, Err(Error::HeaderTooLarge));
    assert_eq!(Error::HeaderTooLarge.response().status, 400);

    let body = |len: usize| {
        let mut b = format!("SET_PARAMETER * RTSP/1.0\r\nCSeq: 3\r\nContent-Length: {len}\r\n\r\n")
            .into_bytes();
        b.extend(std::iter::repeat_n(b'x', len));
        b
    };
    assert_eq!(
        Request::parse(&body(MAX_BODY)).unwrap().body.len(),
        MAX_BODY
    );
    let e = Request::parse(&body(MAX_BODY + 1)).unwrap_err();
    assert_eq!(
        e,
        Error::BodyTooLarge {
            len: MAX_BODY as u64 + 1,
            cseq: 3
        }
    );
    assert_eq!(
        &e.response().to_bytes()[..],
        b"RTSP/1.0 413 Request Entity Too Large\r\nCSeq: 3\r\n\r\n"
    );
    // A length past u64 is no number at all.
    assert!(matches!(
        Request::parse(b"SET_PARAMETER * RTSP/1.0\r\nCSeq: 3\r\nContent-Length: 99999999999999999999999\r\n\r\n"),
        Err(Error::ContentLength { cseq: 3 })
    ));
}

#[test]
fn a_failed_reader_stays_failed() {
    let mut r = Reader::new();
    r.push(b"\x16\x03\x01\x02\x00"); // a TLS ClientHello on the RTSP port
    let e = r.next().unwrap_err();
    assert!(matches!(e, Error::Malformed(_)));
    r.push(b"OPTIONS * RTSP/1.0\r\nCSeq: 1\r\n\r\n");
    assert_eq!(r.next(), Err(e));
    assert_eq!(r.pending(), 0);
}

#[test]
fn interleaved_frames_read_and_written() {
    let rtcp = [0x81, 0xc9, 0, 1, 0xde, 0xad, 0xbe, 0xef];
    let mut bytes = interleaved(1, &rtcp).unwrap().to_vec();
    bytes.extend_from_slice(&interleaved(4, &[]).unwrap());
    bytes.extend_from_slice(b"GET_PARAMETER rtsp://h/live/ RTSP/1.0\r\nCSeq: 9\r\n\r\n");
    let big = vec![7u8; MAX_FRAME];
    bytes.extend_from_slice(&interleaved(5, &big).unwrap());
    assert_eq!(&bytes[..4], b"$\x01\x00\x08");
    let units = read_all(&bytes);
    assert_eq!(units.len(), 4);
    assert_eq!(
        units[0],
        Incoming::Interleaved {
            channel: 1,
            payload: Bytes::copy_from_slice(&rtcp)
        }
    );
    assert_eq!(
        units[1],
        Incoming::Interleaved {
            channel: 4,
            payload: Bytes::new()
        }
    );
    assert!(matches!(&units[2], Incoming::Request(r) if r.cseq == 9));
    assert!(
        matches!(&units[3], Incoming::Interleaved { channel: 5, payload } if payload.len() == MAX_FRAME)
    );
    // A frame waits for all of its payload.
    let (partial, err) = read_chunked(&[&bytes[..14]]);
    assert_eq!((partial.len(), err), (1, None));

    assert_eq!(interleaved_header(0, 65535), Ok([b'$', 0, 0xff, 0xff]));
    assert_eq!(
        interleaved_header(0, 65536),
        Err(Error::FrameTooLarge(65536))
    );
    assert_eq!(
        interleaved(0, &vec![0; 70000]),
        Err(Error::FrameTooLarge(70000))
    );
    let short: Vec<u8> = bytes[..200].to_vec();
    assert_any_split_reads_the_same(&short);
}

#[test]
fn responses_are_written_with_crlf_and_their_length() {
    let r = Response::ok(3)
        .with("Session", "6BC3A1D2E4F5;timeout=60")
        .with("Content-Length", "999")
        .with_body("application/sdp", "v=0\r\n");
    assert_eq!(
        std::str::from_utf8(&r.to_bytes()).unwrap(),
        "RTSP/1.0 200 OK\r\nCSeq: 3\r\nSession: 6BC3A1D2E4F5;timeout=60\r\n\
         Content-Type: application/sdp\r\nContent-Length: 5\r\n\r\nv=0\r\n"
    );
    assert_eq!(r.header("content-type"), Some("application/sdp"));
    // A value cannot smuggle in a header of its own.
    let r = Response::new(status::NOT_FOUND, Some(1)).with("X", "a\r\nCSeq: 2");
    assert_eq!(
        &r.to_bytes()[..],
        b"RTSP/1.0 404 Not Found\r\nCSeq: 1\r\nX: a  CSeq: 2\r\n\r\n"
    );
}

#[test]
fn reason_phrases() {
    for (code, phrase) in [
        (200, "OK"),
        (400, "Bad Request"),
        (401, "Unauthorized"),
        (404, "Not Found"),
        (405, "Method Not Allowed"),
        (451, "Parameter Not Understood"),
        (453, "Not Enough Bandwidth"),
        (454, "Session Not Found"),
        (455, "Method Not Valid in This State"),
        (457, "Invalid Range"),
        (459, "Aggregate operation not allowed"),
        (461, "Unsupported transport"),
        (500, "Internal Server Error"),
        (501, "Not Implemented"),
        (503, "Service Unavailable"),
        (505, "RTSP Version not supported"),
        (551, "Option not supported"),
        (299, "Success"),
        (499, "Client Error"),
        (599, "Server Error"),
    ] {
        assert_eq!(reason(code), phrase, "{code}");
    }
}

#[test]
fn headers_set_and_remove() {
    let mut h = Headers::default();
    h.push("A", "1");
    h.push("b", "2");
    h.push("a", "3");
    h.set("A", "4");
    assert_eq!(h.iter().collect::<Vec<_>>(), [("A", "4"), ("b", "2")]);
    h.set("C", "5");
    h.remove("B");
    assert_eq!(h.iter().collect::<Vec<_>>(), [("A", "4"), ("C", "5")]);
    assert_eq!(h.len(), 2);
    assert!(!h.is_empty());
}
