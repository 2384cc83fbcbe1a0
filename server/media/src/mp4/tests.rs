use std::path::PathBuf;
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};

use super::*;
use crate::h264::{is_key_frame, split_annex_b};

/// A NAL unit of `len` bytes with this header; no zero byte in it.
fn nal(header: u8, len: usize) -> Bytes {
    let mut v = vec![header];
    v.extend((1..len).map(|i| (i % 251 + 1) as u8));
    Bytes::from(v)
}

fn track() -> VideoTrack {
    VideoTrack {
        width: 640,
        height: 480,
        sps: Bytes::from_static(&[0x67, 0x42, 0xc0, 0x1e, 0xd9, 0x00]),
        pps: Bytes::from_static(&[0x68, 0xce, 0x3c, 0x80]),
    }
}

/// The boxes of `data` as (type, body, offset of the box in `data`),
/// asserting that their sizes add up to exactly `data`.
fn boxes(data: &[u8]) -> Vec<([u8; 4], &[u8], usize)> {
    let mut out = Vec::new();
    let mut at = 0;
    while at < data.len() {
        assert!(at + 8 <= data.len(), "a box header past the end");
        let size = u32::from_be_bytes(data[at..at + 4].try_into().unwrap()) as usize;
        let kind = data[at + 4..at + 8].try_into().unwrap();
        assert!(size >= 8 && at + size <= data.len(), "box size {size}");
        out.push((kind, &data[at + 8..at + size], at));
        at += size;
    }
    out
}

fn kinds(data: &[u8]) -> Vec<String> {
    boxes(data)
        .iter()
        .map(|b| String::from_utf8_lossy(&b.0).into_owned())
        .collect()
}

/// Every box in `data`, depth first, as (type, body), with the sizes of
/// the children of every container checked to add up.
fn walk(data: &[u8]) -> Vec<([u8; 4], &[u8])> {
    let mut out = Vec::new();
    for (kind, body, _) in boxes(data) {
        out.push((kind, body));
        // Where the children start in each container's body.
        let children = match &kind {
            b"moov" | b"trak" | b"mdia" | b"minf" | b"dinf" | b"stbl" | b"mvex" | b"moof"
            | b"traf" => Some(0),
            b"stsd" | b"dref" => Some(8),
            b"avc1" => Some(78),
            b"fLaC" => Some(28),
            _ => None,
        };
        if let Some(skip) = children {
            out.extend(walk(&body[skip..]));
        }
    }
    out
}

/// The bodies of every box of this type.
fn all<'a>(walked: &[([u8; 4], &'a [u8])], kind: &[u8; 4]) -> Vec<&'a [u8]> {
    walked
        .iter()
        .filter(|b| &b.0 == kind)
        .map(|b| b.1)
        .collect()
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_be_bytes(b[at..at + 4].try_into().unwrap())
}

/// A trun's samples as (duration, size, flags) and its data offset.
fn trun(body: &[u8]) -> (u32, Vec<(u32, u32, u32)>) {
    assert_eq!(u32_at(body, 0), 0x0701);
    let count = u32_at(body, 4) as usize;
    assert_eq!(body.len(), 12 + 12 * count);
    let samples = (0..count)
        .map(|i| {
            let e = 12 + 12 * i;
            (u32_at(body, e), u32_at(body, e + 4), u32_at(body, e + 8))
        })
        .collect();
    (u32_at(body, 8), samples)
}

/// A fragment's tracks: (track ID, tfdt, the trun's samples with their
/// bytes found through the data offset), after checking the layout.
#[allow(clippy::type_complexity)]
fn read_fragment(data: &[u8], sequence: u32) -> Vec<(u32, u64, Vec<(u32, u32, Vec<u8>)>)> {
    assert_eq!(kinds(data), ["moof", "mdat"]);
    let top = boxes(data);
    let (moof, mdat) = (top[0].1, top[1]);
    let mdat_start = mdat.2 + 8;
    let walked = walk(moof);
    assert_eq!(
        all(&walked, b"mfhd"),
        [&[0, 0, 0, 0, 0, 0, 0, sequence as u8][..]]
    );
    let mut tracks = Vec::new();
    let mut end_of_last = mdat_start;
    for traf in all(&walked, b"traf") {
        let inner = walk(traf);
        assert_eq!(kinds(traf), ["tfhd", "tfdt", "trun"]);
        let tfhd = all(&inner, b"tfhd")[0];
        assert_eq!(u32_at(tfhd, 0), 0x02_0000, "default-base-is-moof");
        let tfdt = all(&inner, b"tfdt")[0];
        assert_eq!(tfdt[0], 1, "tfdt version 1");
        let time = u64::from_be_bytes(tfdt[4..12].try_into().unwrap());
        let (offset, entries) = trun(all(&inner, b"trun")[0]);
        // The samples follow one another from the data offset, the video
        // first, and fill the mdat.
        let mut at = offset as usize;
        assert_eq!(at, end_of_last);
        let mut samples = Vec::new();
        for (duration, size, flags) in entries {
            samples.push((duration, flags, data[at..at + size as usize].to_vec()));
            at += size as usize;
        }
        end_of_last = at;
        tracks.push((u32_at(tfhd, 4), time, samples));
    }
    assert_eq!(end_of_last, data.len(), "the samples fill the mdat");
    tracks
}

#[test]
fn init_has_both_tracks_and_their_sample_entries() {
    let w = Writer::new(track(), true);
    let init = w.init();
    assert_eq!(kinds(&init), ["ftyp", "moov"]);
    assert_eq!(&boxes(&init)[0].1, b"isom\0\0\x02\0isomiso6avc1mp41");
    let moov = boxes(&init)[1].1;
    assert_eq!(kinds(moov), ["mvhd", "trak", "trak", "mvex"]);
    let walked = walk(moov);
    let mvhd = all(&walked, b"mvhd")[0];
    assert_eq!(mvhd.len(), 100);
    assert_eq!(u32_at(mvhd, 12), 1000);
    assert_eq!(u32_at(mvhd, 96), 3, "next track ID");
    let tkhd = all(&walked, b"tkhd");
    assert_eq!(
        tkhd.iter().map(|t| u32_at(t, 0)).collect::<Vec<_>>(),
        [3, 3]
    );
    assert_eq!(
        tkhd.iter().map(|t| u32_at(t, 12)).collect::<Vec<_>>(),
        [1, 2]
    );
    assert_eq!(
        (u32_at(tkhd[0], 76), u32_at(tkhd[0], 80)),
        (640 << 16, 480 << 16)
    );
    let mdhd = all(&walked, b"mdhd");
    assert_eq!(
        mdhd.iter().map(|m| u32_at(m, 12)).collect::<Vec<_>>(),
        [90_000, 8000]
    );
    let handlers: Vec<&[u8]> = all(&walked, b"hdlr").iter().map(|h| &h[8..12]).collect();
    assert_eq!(handlers, [b"vide", b"soun"]);
    assert_eq!(all(&walked, b"vmhd").len(), 1);
    assert_eq!(all(&walked, b"smhd").len(), 1);
    assert_eq!(all(&walked, b"url ")[0], [0, 0, 0, 1]);
    for kind in [b"stts", b"stsc", b"stco"] {
        assert_eq!(all(&walked, kind), [[0; 8]; 2]);
    }
    assert_eq!(all(&walked, b"stsz"), [[0; 12]; 2]);

    let avc1 = all(&walked, b"avc1")[0];
    assert_eq!(&avc1[6..8], [0, 1], "data reference index");
    assert_eq!(
        (&avc1[24..26], &avc1[26..28]),
        (&[2, 0x80][..], &[1, 0xe0][..])
    );
    assert_eq!(
        all(&walked, b"avcC")[0],
        [
            1, 0x42, 0xc0, 0x1e, 0xff, 0xe1, 0, 6, 0x67, 0x42, 0xc0, 0x1e, 0xd9, 0, 1, 0, 4, 0x68,
            0xce, 0x3c, 0x80
        ]
    );
    let flac = all(&walked, b"fLaC")[0];
    assert_eq!(
        &flac[..28],
        [
            0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 16, 0, 0, 0, 0, 0x1f, 0x40, 0,
            0
        ]
    );
    let dfla = all(&walked, b"dfLa")[0];
    assert_eq!(dfla[..4], [0; 4]);
    assert_eq!(dfla[4..], stream_info());
    let trex = all(&walked, b"trex");
    assert_eq!(
        trex.iter().map(|t| u32_at(t, 4)).collect::<Vec<_>>(),
        [1, 2]
    );
    assert!(trex.iter().all(|t| t.len() == 24 && u32_at(t, 8) == 1));
}

#[test]
fn init_without_audio_has_the_video_track_only() {
    let mut w = Writer::new(track(), false);
    let init = w.init();
    let moov = boxes(&init)[1].1;
    assert_eq!(kinds(moov), ["mvhd", "trak", "mvex"]);
    assert_eq!(u32_at(all(&walk(moov), b"mvhd")[0], 96), 2);
    assert_eq!(all(&walk(moov), b"trex").len(), 1);
    // Audio is ignored.
    w.push_audio(&[1; 5000]);
    assert_eq!(w.duration_ms(), 0);
    assert_eq!(w.finish(), None);
}

#[test]
fn trun_offsets_land_on_the_samples() {
    let mut w = Writer::new(track(), true);
    let (aud, sps, pps) = (nal(0x09, 2), nal(0x67, 6), nal(0x68, 4));
    let (idr, p1, p2) = (nal(0x65, 900), nal(0x41, 300), nal(0x41, 200));
    w.push_video(
        5000,
        true,
        &[aud.clone(), sps.clone(), pps.clone(), idr.clone()],
    );
    w.push_audio(&[7; 1500]);
    w.push_video(8600, false, &[aud.clone(), p1.clone()]);
    w.push_video(12200, false, std::slice::from_ref(&p2));
    let f = w.fragment().unwrap();
    let tracks = read_fragment(&f, 1);
    assert_eq!(tracks.len(), 2);
    let (id, time, video) = &tracks[0];
    assert_eq!((*id, *time), (1, 0));
    // The newest frame waits for its duration; the AUD is dropped.
    assert_eq!(video.len(), 2);
    assert_eq!(&video[0].2[..], &avcc(&[sps, pps, idr])[..]);
    assert_eq!(&video[0].2[..5], [0, 0, 0, 6, 0x67]);
    assert_eq!(video[1].2, &avcc(&[p1])[..]);
    assert_eq!(
        video.iter().map(|v| (v.0, v.1)).collect::<Vec<_>>(),
        [(3600, SYNC), (3600, NON_SYNC)]
    );
    let (id, time, audio) = &tracks[1];
    assert_eq!((*id, *time), (2, 0));
    assert_eq!(audio.len(), 1, "one whole FLAC block of 1500 samples");
    assert_eq!(audio[0].0, 1024);
    assert_eq!(audio[0].1, SYNC);
    assert_eq!(audio[0].2, &flac_frame(0, &[7; 1024])[..]);

    // Nothing new is ready: the last frame still waits.
    assert_eq!(w.fragment(), None);
    w.push_audio(&[8; 100]);
    let f = w.finish().unwrap();
    let tracks = read_fragment(&f, 2);
    assert_eq!(tracks[0].1, 7200);
    assert_eq!(tracks[0].2.len(), 1);
    assert_eq!(tracks[0].2[0].0, 3600, "the previous frame's duration");
    assert_eq!(tracks[1].1, 1024);
    let mut rest = vec![7; 476];
    rest.extend([8; 100]);
    assert_eq!(tracks[1].2[0].2, &flac_frame(1, &rest)[..]);
    assert_eq!(w.finish(), None);
    // 1600 samples; the video's 3 frames are 120 ms.
    assert_eq!(w.duration_ms(), 200);
}

#[test]
fn durations_come_from_the_next_frame() {
    let mut w = Writer::new(track(), false);
    // Not decodable: before the first key frame.
    w.push_video(0, false, &[nal(0x41, 10)]);
    // Nothing but an AUD: not a sample.
    w.push_video(500, true, &[nal(0x09, 2)]);
    assert_eq!(w.duration_ms(), 0);
    w.push_video(1000, true, &[nal(0x65, 10)]);
    assert_eq!(w.fragment(), None, "one frame: its duration is unknown");
    w.push_video(4000, false, &[nal(0x41, 10)]);
    w.push_video(8000, false, &[nal(0x41, 10)]);
    w.push_video(8000, false, &[nal(0x41, 10)]); // the same time again
    assert_eq!(w.duration_ms(), 7000 / 90);
    let tracks = read_fragment(&w.fragment().unwrap(), 1);
    assert_eq!(tracks.len(), 1);
    let durations: Vec<u32> = tracks[0].2.iter().map(|s| s.0).collect();
    assert_eq!(durations, [3000, 4000, 1]);
    w.push_video(11_600, true, &[nal(0x65, 10)]);
    let tracks = read_fragment(&w.finish().unwrap(), 2);
    assert_eq!(tracks[0].1, 7001);
    let samples: Vec<(u32, u32)> = tracks[0].2.iter().map(|s| (s.0, s.1)).collect();
    assert_eq!(samples, [(3600, NON_SYNC), (3600, SYNC)]);
    assert_eq!(w.duration_ms(), 14_201 / 90);

    // A recording of one frame lasts 1/25 s.
    let mut w = Writer::new(track(), false);
    w.push_video(77, true, &[nal(0x65, 10)]);
    let tracks = read_fragment(&w.finish().unwrap(), 1);
    assert_eq!(tracks[0].2[0].0, 3600);
    assert_eq!(w.duration_ms(), 40);
}

#[test]
fn audio_before_the_first_key_frame_holds_the_first_picture() {
    let mut w = Writer::new(track(), true);
    w.push_audio(&[1; 400]);
    w.push_video(100, false, &[nal(0x41, 10)]);
    w.push_audio(&[2; 400]);
    assert_eq!(w.duration_ms(), 100);
    // 800 samples: 100 ms, 9000 at 90 kHz.
    w.push_video(200_000, true, &[nal(0x65, 10)]);
    w.push_video(203_600, false, &[nal(0x41, 10)]);
    w.push_audio(&[3; 400]);
    assert_eq!(w.duration_ms(), 150);
    let tracks = read_fragment(&w.fragment().unwrap(), 1);
    assert_eq!(tracks.len(), 2);
    // Both tracks start at 0, the first picture lasts 100 ms longer.
    assert_eq!((tracks[0].0, tracks[0].1), (1, 0));
    assert_eq!(tracks[0].2[0].0, 9000 + 3600);
    assert_eq!((tracks[1].0, tracks[1].1), (2, 0));
    let tracks = read_fragment(&w.finish().unwrap(), 2);
    assert_eq!((tracks[0].1, tracks[1].1), (12_600, 1024));
    assert_eq!(
        tracks[0].2[0].0, 3600,
        "its own duration, without the 100 ms"
    );
    assert_eq!(tracks[1].2[0].0, 176);
    // 100 ms before the video, and its two frames.
    assert_eq!(w.duration_ms(), 180);

    // The only frame: the default duration and the lead.
    let mut w = Writer::new(track(), true);
    w.push_audio(&[1; 80]);
    w.push_video(0, true, &[nal(0x65, 10)]);
    let tracks = read_fragment(&w.finish().unwrap(), 1);
    assert_eq!(tracks[0].2[0].0, 900 + 3600);
    assert_eq!(w.duration_ms(), 50);
}

#[test]
fn audio_alone_is_cut_in_blocks() {
    let mut w = Writer::new(track(), true);
    assert_eq!(w.fragment(), None);
    w.push_audio(&[5; 1000]);
    assert_eq!(w.fragment(), None, "short of a block");
    w.push_audio(&[5; 1500]);
    let tracks = read_fragment(&w.fragment().unwrap(), 1);
    assert_eq!(tracks.len(), 1);
    assert_eq!(tracks[0].0, 2);
    let durations: Vec<u32> = tracks[0].2.iter().map(|s| s.0).collect();
    assert_eq!(durations, [1024, 1024]);
    let tracks = read_fragment(&w.finish().unwrap(), 2);
    assert_eq!((tracks[0].1, tracks[0].2.len()), (2048, 1));
    assert_eq!(tracks[0].2[0].0, 452);
    // 452 samples: block size code 7, n - 1 in 16 bits after frame 2.
    assert_eq!(
        tracks[0].2[0].2[..7],
        [0xff, 0xf8, 0x74, 0x08, 2, 0x01, 0xc3]
    );
    assert_eq!(w.duration_ms(), 2500 / 8);
}

#[test]
fn flac_crcs_of_a_known_frame() {
    // The check values of CRC-8/SMBUS and CRC-16/UMTS, FLAC's two CRCs.
    assert_eq!(crc8(b"123456789"), 0xf4);
    assert_eq!(crc16(b"123456789"), 0xfee8);
    // Frame 0 of two samples, 1 and -1 (ffmpeg decodes it to them).
    assert_eq!(
        flac_frame(0, &[1, -1]),
        [0xff, 0xf8, 0x64, 0x08, 0x00, 0x01, 0xe4, 0x02, 0x00, 0x01, 0xff, 0xff, 0x99, 0x3f]
    );
    // A whole block: header of 5 bytes and its CRC, the subframe, and a
    // CRC over everything that leaves no remainder.
    let samples: Vec<i16> = (0..1024).map(|i| (i * 37 % 65536 - 32768) as i16).collect();
    let f = flac_frame(300, &samples);
    assert_eq!(f.len(), 6 + 1 + 1 + 2048 + 2);
    assert_eq!(f[..6], [0xff, 0xf8, 0xa4, 0x08, 0xc4, 0xac]);
    assert_eq!(crc8(&f[..7]), 0);
    assert_eq!(f[7], 0x02);
    assert_eq!(f[8..10], samples[0].to_be_bytes());
    assert_eq!(crc16(&f), 0);
}

#[test]
fn frame_numbers_are_coded_as_utf8() {
    for n in [0, 0x7f, 0x80, 0x7ff, 0x800, 0xffff, 0x1_0000, 0x10_ffff] {
        let mut out = Vec::new();
        put_utf8(&mut out, n);
        let mut utf8 = [0; 4];
        let c = char::from_u32(n).unwrap();
        assert_eq!(out, c.encode_utf8(&mut utf8).as_bytes(), "{n:#x}");
    }
    for (n, coded) in [
        (0x20_0000, &[0xf8, 0x88, 0x80, 0x80, 0x80][..]),
        (0x7fff_ffff, &[0xfd, 0xbf, 0xbf, 0xbf, 0xbf, 0xbf]),
    ] {
        let mut out = Vec::new();
        put_utf8(&mut out, n);
        assert_eq!(out, coded);
    }
}

#[test]
fn stream_info_is_8_khz_mono_16_bits() {
    let mut expected = [0; 38];
    expected[..22].copy_from_slice(&[
        0x80, 0, 0, 34, 4, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0x01, 0xf4, 0x00, 0xf0, 0, 0, 0, 0,
    ]);
    assert_eq!(stream_info(), expected);
}

/// Runs a program of Debian's ffmpeg package; fails the test, saying so,
/// when it is not installed.
fn run(program: &str, args: &[&str]) -> Output {
    Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "cannot run {program} ({e}): the MP4 test needs Debian's ffmpeg \
             (apt-get install ffmpeg; .ci/lib.sh installs it for CI)"
            )
        })
}

/// A file removed when dropped, pass or fail.
struct TempFile(PathBuf);

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

fn temp_file(ext: &str) -> TempFile {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    TempFile(std::env::temp_dir().join(format!("vto-media-mp4-{}-{n}.{ext}", std::process::id())))
}

/// Two seconds of ffmpeg's test picture, 320x240 at 25 frames a second, a
/// key frame every second, as Annex B.
fn test_h264() -> Bytes {
    let encoders = run("ffmpeg", &["-hide_banner", "-encoders"]);
    let encoders = String::from_utf8_lossy(&encoders.stdout);
    let has = |name: &str| encoders.split_whitespace().any(|w| w == name);
    let mut args: Vec<&str> =
        "-v error -f lavfi -i testsrc=size=320x240:rate=25 -t 2 -pix_fmt yuv420p -g 25"
            .split(' ')
            .collect();
    if has("libx264") {
        args.extend(["-c:v", "libx264", "-profile:v", "baseline"]);
    } else if has("libopenh264") {
        args.extend(["-c:v", "libopenh264"]);
    } else {
        panic!("ffmpeg has no H.264 encoder (libx264 or libopenh264):\n{encoders}");
    }
    args.extend(["-bsf:v", "h264_mp4toannexb", "-f", "h264", "-"]);
    let out = run("ffmpeg", &args);
    assert!(
        out.status.success(),
        "ffmpeg could not encode H.264: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Bytes::from(out.stdout)
}

/// NAL units grouped into access units: one starts at an AUD, SEI, SPS or
/// PPS, or at a slice whose first_mb_in_slice is 0 (ue(v) 0 is a single 1
/// bit), when the current one has a slice already.
fn access_units(stream: &Bytes) -> Vec<Vec<Bytes>> {
    let mut units: Vec<Vec<Bytes>> = Vec::new();
    let mut has_slice = false;
    for nal in split_annex_b(stream) {
        let t = nal_type(&nal);
        let starts = match t {
            1 | 5 => nal.get(1).is_some_and(|b| b & 0x80 != 0),
            6..=9 => true,
            _ => false,
        };
        if units.is_empty() || has_slice && starts {
            units.push(Vec::new());
            has_slice = false;
        }
        has_slice |= matches!(t, 1 | 5);
        units.last_mut().unwrap().push(nal);
    }
    units
}

#[test]
fn ffmpeg_decodes_a_recording_as_written() {
    let units = access_units(&test_h264());
    assert_eq!(units.len(), 50);
    assert!(is_key_frame(&units[0]) && is_key_frame(&units[25]));
    let find = |t| units[0].iter().find(|n| nal_type(n) == t).unwrap().clone();
    let mut w = Writer::new(
        VideoTrack {
            width: 320,
            height: 240,
            sps: find(crate::h264::SPS),
            pps: find(crate::h264::PPS),
        },
        true,
    );
    // 440 Hz at 8 kHz: 100 ms before the first key frame, 40 ms with each
    // frame, and 100 samples more.
    let pcm: Vec<i16> = (0..800 + 50 * 320 + 100)
        .map(|i| {
            let t = f64::from(i) / 8000.0;
            (12_000.0 * (2.0 * std::f64::consts::PI * 440.0 * t).sin()) as i16
        })
        .collect();
    let mut file = w.init();
    w.push_audio(&pcm[..800]);
    for (i, unit) in units.iter().enumerate() {
        w.push_video(1_234_567 + i as u64 * 3600, is_key_frame(unit), &unit[..]);
        w.push_audio(&pcm[800 + i * 320..800 + (i + 1) * 320]);
        if i % 10 == 9 {
            file.extend(w.fragment().unwrap());
        }
    }
    w.push_audio(&pcm[800 + 50 * 320..]);
    file.extend(w.finish().unwrap());
    assert_eq!(w.duration_ms(), 2112);
    let path = temp_file("mp4");
    std::fs::write(&path.0, &file).unwrap();
    let name = path.0.to_str().unwrap();

    let probe = run(
        "ffprobe",
        &[
            "-v",
            "error",
            "-show_streams",
            "-count_frames",
            "-of",
            "json",
            name,
        ],
    );
    let report = String::from_utf8_lossy(&probe.stdout);
    assert!(
        probe.status.success() && probe.stderr.is_empty(),
        "ffprobe: {}",
        String::from_utf8_lossy(&probe.stderr)
    );
    let report: serde_json::Value = serde_json::from_str(&report).unwrap();
    let streams = report["streams"].as_array().unwrap();
    assert_eq!(streams.len(), 2, "{report:#}");
    let video = &streams[0];
    assert_eq!(video["codec_type"], "video", "{report:#}");
    assert_eq!(video["codec_name"], "h264");
    assert_eq!(
        (&video["width"], &video["height"]),
        (&320.into(), &240.into())
    );
    assert_eq!(video["nb_read_frames"], "50");
    // In step with the audio: from 0, the first picture 100 ms longer.
    assert_eq!(video["start_time"], "0.000000");
    assert_eq!(video["duration"], "2.100000");
    let audio = &streams[1];
    assert_eq!(audio["codec_type"], "audio", "{report:#}");
    assert_eq!(audio["codec_name"], "flac");
    assert_eq!(audio["sample_rate"], "8000");
    assert_eq!(audio["channels"], 1);
    assert_eq!(audio["start_time"], "0.000000");
    assert_eq!(audio["duration"], "2.112500");
    assert_eq!(audio["nb_read_frames"], "17");

    // Every frame decodes, and the FLAC frames' CRC-16s are checked too.
    let decode = run(
        "ffmpeg",
        &[
            "-v",
            "error",
            "-err_detect",
            "crccheck",
            "-i",
            name,
            "-f",
            "null",
            "-",
        ],
    );
    assert!(
        decode.status.success() && decode.stderr.is_empty(),
        "ffmpeg: {}",
        String::from_utf8_lossy(&decode.stderr)
    );

    // VERBATIM FLAC is lossless: the samples come back as pushed.
    let decode = run(
        "ffmpeg",
        &[
            "-v", "error", "-i", name, "-map", "0:a", "-f", "s16le", "-ac", "1", "-ar", "8000", "-",
        ],
    );
    assert!(
        decode.status.success() && decode.stderr.is_empty(),
        "ffmpeg: {}",
        String::from_utf8_lossy(&decode.stderr)
    );
    let decoded: Vec<i16> = decode
        .stdout
        .chunks_exact(2)
        .map(|b| i16::from_le_bytes([b[0], b[1]]))
        .collect();
    assert_eq!(decoded.len(), pcm.len());
    assert!(
        decoded == pcm,
        "the decoded samples differ from those pushed"
    );
}
