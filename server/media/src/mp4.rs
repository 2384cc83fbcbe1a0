//! A visitor's message recorded as fragmented MP4 (ISO/IEC 14496-12 and
//! 14496-15): the door camera's H.264 and, when the call has audio, the
//! door microphone's G.711 decoded to 16-bit samples and stored as FLAC
//! (the ISO BMFF mapping of FLAC, "fLaC" and "dfLa"), a file that
//! Chromium's `<video>` element plays as it is.
//!
//! Fragmented because a recording is written as it comes: the file's start
//! ([`Writer::init`]: ftyp and a moov without samples) never changes, and
//! every [`Writer::fragment`] (moof and mdat) is appended, so a recording
//! cut short by a power loss or a crash still plays up to its last
//! fragment. Nothing is rewritten, nothing is held but one fragment.
//!
//! FLAC rather than AAC or G.711 in MP4: browsers do not play G.711 from
//! MP4, AAC would need an encoder, and FLAC's VERBATIM subframes store the
//! samples as they are (16 bits each: twice G.711's 8, which for a message
//! of a minute is about a megabyte), and Chromium plays FLAC from MP4.
//!
//! Both tracks start at media time 0 of the file. Video frames before the
//! first key frame cannot be decoded and are dropped; audio pushed before
//! that key frame is kept, and the first picture is shown for as long as
//! that audio lasts, before its own duration, so the two tracks stay in
//! step (the audio samples are the writer's only clock: the caller pushes
//! them as they arrive). Starting the video track later instead would be
//! valid MP4, but ffmpeg, and so Chromium, then count the gap twice in the
//! file's duration.
//!
//! Video samples are taken in the order pushed with their times as
//! decoding times: the door's cameras send no B-frames, so decoding and
//! presentation order are the same and no composition offsets are written.

use bytes::{BufMut, Bytes};

use crate::h264::{nal_type, AUD};

/// The video track's timescale: RTP's H.264 clock.
pub const VIDEO_TIMESCALE: u32 = 90_000;
/// The audio track's sample rate (and timescale): G.711's.
pub const AUDIO_RATE: u32 = 8000;
/// Samples in each FLAC frame (one MP4 sample) but the last: 128 ms, one of
/// FLAC's block sizes with a code of its own, few enough frames that their
/// headers and trun entries cost under 2 % of the audio.
pub const FLAC_BLOCK: usize = 1024;

const VIDEO_TRACK: u32 = 1;
const AUDIO_TRACK: u32 = 2;
/// The duration given to a recording's only video frame: 25 frames a second.
const DEFAULT_FRAME: u32 = VIDEO_TIMESCALE / 25;
/// trun sample flags (14496-12 8.8.3.1): a sync sample depends on no other
/// (sample_depends_on 2); any other depends on others and is not a sync
/// sample (sample_depends_on 1, sample_is_non_sync_sample 1).
const SYNC: u32 = 0x0200_0000;
const NON_SYNC: u32 = 0x0101_0000;

/// The video of a recording: the picture size and the parameter sets that
/// go into the sample entry (avcC), which a decoder needs before the first
/// frame.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VideoTrack {
    pub width: u16,
    pub height: u16,
    pub sps: Bytes,
    pub pps: Bytes,
}

/// An access unit waiting for the next one, which gives its duration.
#[derive(Debug)]
struct Frame {
    pts: u64,
    key: bool,
    nals: Vec<Bytes>,
}

/// A sample as a trun entry and its bytes in the mdat.
#[derive(Debug)]
struct Sample {
    duration: u32,
    flags: u32,
    data: Vec<u8>,
}

/// Writes one recording: [`Writer::init`] once, then the fragments as media
/// is pushed, then [`Writer::finish`]. Pure: the caller writes the bytes to
/// a file, and cuts a fragment every second or so: what a crash can lose,
/// and far from the 4 GiB that a box's 32-bit size can hold.
#[derive(Debug)]
pub struct Writer {
    video: VideoTrack,
    audio: bool,
    /// The next moof's sequence number (mfhd), from 1.
    sequence: u32,
    /// The time the caller gave the first key frame, and the newest frame.
    first_pts: Option<u64>,
    newest_pts: u64,
    /// The audio pushed before the first key frame (90 kHz), added to the
    /// first video sample's duration.
    video_lead: u64,
    /// Whether that first sample is written.
    lead_written: bool,
    frames: Vec<Frame>,
    /// The decoding time of the next video sample written (tfdt).
    video_time: u64,
    /// The last video sample's duration, for the last one of all.
    last_duration: u32,
    /// Samples not yet in a FLAC frame.
    pcm: Vec<i16>,
    audio_pushed: u64,
    /// The decoding time of the next audio sample written: PCM samples
    /// written so far.
    audio_time: u64,
    /// The next FLAC frame's number.
    flac_frame: u32,
}

impl Writer {
    /// `audio`: whether there is a FLAC track (track 2); video is track 1.
    pub fn new(video: VideoTrack, audio: bool) -> Self {
        Self {
            video,
            audio,
            sequence: 1,
            first_pts: None,
            newest_pts: 0,
            video_lead: 0,
            lead_written: false,
            frames: Vec::new(),
            video_time: 0,
            last_duration: DEFAULT_FRAME,
            pcm: Vec::new(),
            audio_pushed: 0,
            audio_time: 0,
            flac_frame: 0,
        }
    }

    /// ftyp + moov (with mvex/trex), written once at the start of the file.
    /// Durations are 0 (unknown): a player that can seek (a file, or HTTP
    /// with Range requests) reads them from the fragments' headers when it
    /// opens the file; one that cannot (an HTTP server without Range) only
    /// estimates the duration until it has played to the end.
    pub fn init(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(1024);
        boxed(&mut out, b"ftyp", |out| {
            out.put_slice(b"isom");
            out.put_u32(0x200);
            for brand in [b"isom", b"iso6", b"avc1", b"mp41"] {
                out.put_slice(brand);
            }
        });
        boxed(&mut out, b"moov", |out| {
            full_box(out, b"mvhd", 0, 0, |out| {
                out.put_bytes(0, 8); // creation and modification time
                out.put_u32(1000); // timescale: ms
                out.put_u32(0); // duration
                out.put_u32(0x0001_0000); // rate 1.0
                out.put_u16(0x0100); // volume 1.0
                out.put_bytes(0, 10);
                put_matrix(out);
                out.put_bytes(0, 24);
                out.put_u32(if self.audio { AUDIO_TRACK } else { VIDEO_TRACK } + 1);
            });
            self.video_trak(out);
            if self.audio {
                audio_trak(out);
            }
            boxed(out, b"mvex", |out| {
                trex(out, VIDEO_TRACK);
                if self.audio {
                    trex(out, AUDIO_TRACK);
                }
            });
        });
        out
    }

    /// One access unit: its NAL units without start codes, its time in
    /// 90 kHz units from any start (monotonic), whether it is a key frame.
    /// Frames before the first key frame are ignored. Access unit
    /// delimiters and empty units are dropped; SPS and PPS are kept in the
    /// samples, as ffmpeg keeps them, so that a camera's new parameter sets
    /// reach the decoder even if they differ from the sample entry's.
    pub fn push_video(&mut self, pts_90k: u64, key: bool, nals: &[Bytes]) {
        let nals: Vec<Bytes> = nals
            .iter()
            .filter(|n| !n.is_empty() && nal_type(n) != AUD)
            .cloned()
            .collect();
        if nals.is_empty() {
            return;
        }
        if self.first_pts.is_none() {
            if !key {
                return;
            }
            self.first_pts = Some(pts_90k);
            self.video_lead =
                self.audio_pushed * u64::from(VIDEO_TIMESCALE) / u64::from(AUDIO_RATE);
        }
        self.newest_pts = pts_90k;
        self.frames.push(Frame {
            pts: pts_90k,
            key,
            nals,
        });
    }

    /// 16-bit PCM at 8000 Hz mono; buffered and cut into FLAC frames of
    /// [`FLAC_BLOCK`] samples. Ignored when the writer has no audio track.
    pub fn push_audio(&mut self, samples: &[i16]) {
        if self.audio {
            self.pcm.extend_from_slice(samples);
            self.audio_pushed += samples.len() as u64;
        }
    }

    /// moof + mdat of what was pushed since the last fragment; None when
    /// nothing is ready. A video sample's duration is known only when the
    /// next one comes, so the newest video sample stays for the next
    /// fragment, and samples short of a FLAC block stay too.
    pub fn fragment(&mut self) -> Option<Vec<u8>> {
        self.cut(false)
    }

    /// The last fragment: everything left, the last video sample with the
    /// previous sample's duration (1/25 s if it is the only one), a last
    /// partial FLAC block. None if nothing is left.
    pub fn finish(&mut self) -> Option<Vec<u8>> {
        self.cut(true)
    }

    /// Media time written so far in milliseconds (the longer of the
    /// tracks), for the caller to stop at a limit: all audio pushed, and
    /// video up to the newest frame (and its duration once finished).
    pub fn duration_ms(&self) -> u64 {
        let video = match self.first_pts {
            Some(first) => {
                (self.video_lead + self.newest_pts.saturating_sub(first)).max(self.video_time)
            }
            None => 0,
        };
        (video / u64::from(VIDEO_TIMESCALE / 1000)).max(self.audio_pushed / 8)
    }

    fn cut(&mut self, last: bool) -> Option<Vec<u8>> {
        let take = self.frames.len().saturating_sub(usize::from(!last));
        let frames: Vec<Frame> = self.frames.drain(..take).collect();
        let mut video = Vec::with_capacity(frames.len());
        for (i, frame) in frames.iter().enumerate() {
            if let Some(next) = frames.get(i + 1).or(self.frames.first()) {
                // Times that go back or stand still get the least duration
                // that keeps decoding times increasing.
                let d = next.pts.saturating_sub(frame.pts).max(1);
                self.last_duration = u32::try_from(d).unwrap_or(u32::MAX);
            }
            let lead = match self.lead_written {
                true => 0,
                false => self.video_lead,
            };
            self.lead_written = true;
            video.push(Sample {
                duration: u32::try_from(u64::from(self.last_duration) + lead).unwrap_or(u32::MAX),
                flags: if frame.key { SYNC } else { NON_SYNC },
                data: avcc(&frame.nals),
            });
        }
        let samples = if last {
            self.pcm.len()
        } else {
            self.pcm.len() / FLAC_BLOCK * FLAC_BLOCK
        };
        let mut audio = Vec::new();
        for block in self.pcm[..samples].chunks(FLAC_BLOCK) {
            audio.push(Sample {
                duration: block.len() as u32, // at most FLAC_BLOCK
                flags: SYNC,
                data: flac_frame(self.flac_frame, block),
            });
            self.flac_frame = self.flac_frame.wrapping_add(1);
        }
        self.pcm.drain(..samples);
        if video.is_empty() && audio.is_empty() {
            return None;
        }
        let out = fragment(
            self.sequence,
            [
                (VIDEO_TRACK, self.video_time, &video[..]),
                (AUDIO_TRACK, self.audio_time, &audio[..]),
            ],
        );
        self.sequence = self.sequence.wrapping_add(1);
        self.video_time += video.iter().map(|s| u64::from(s.duration)).sum::<u64>();
        self.audio_time += samples as u64;
        Some(out)
    }

    fn video_trak(&self, out: &mut Vec<u8>) {
        let v = &self.video;
        let (width, height) = (u32::from(v.width), u32::from(v.height));
        trak(
            out,
            VIDEO_TRACK,
            (width, height),
            (b"vide", VIDEO_TIMESCALE),
            |out| full_box(out, b"vmhd", 0, 1, |out| out.put_bytes(0, 8)),
            |out| {
                boxed(out, b"avc1", |out| {
                    sample_entry_header(out);
                    out.put_bytes(0, 16); // pre_defined, reserved
                    out.put_u16(v.width);
                    out.put_u16(v.height);
                    out.put_u32(0x0048_0000); // 72 dpi
                    out.put_u32(0x0048_0000);
                    out.put_u32(0);
                    out.put_u16(1); // frame_count
                    out.put_bytes(0, 32); // compressorname
                    out.put_u16(0x0018); // depth
                    out.put_i16(-1);
                    boxed(out, b"avcC", |out| avc_config(out, &v.sps, &v.pps));
                });
            },
        );
    }
}

/// The FLAC track: one channel, 16 bits, 8 kHz.
fn audio_trak(out: &mut Vec<u8>) {
    trak(
        out,
        AUDIO_TRACK,
        (0, 0),
        (b"soun", AUDIO_RATE),
        |out| full_box(out, b"smhd", 0, 0, |out| out.put_u32(0)),
        |out| {
            boxed(out, b"fLaC", |out| {
                sample_entry_header(out);
                out.put_bytes(0, 8);
                out.put_u16(1); // channelcount
                out.put_u16(16); // samplesize
                out.put_u32(0); // pre_defined, reserved
                out.put_u32(AUDIO_RATE << 16);
                full_box(out, b"dfLa", 0, 0, |out| out.put_slice(&stream_info()));
            });
        },
    );
}

/// A trak without samples: `header` writes the media header (vmhd or
/// smhd), `entry` the sample entry.
fn trak(
    out: &mut Vec<u8>,
    id: u32,
    (width, height): (u32, u32),
    (handler, timescale): (&[u8; 4], u32),
    header: impl FnOnce(&mut Vec<u8>),
    entry: impl FnOnce(&mut Vec<u8>),
) {
    let sound = handler == b"soun";
    boxed(out, b"trak", |out| {
        // Flags: track_enabled | track_in_movie.
        full_box(out, b"tkhd", 0, 3, |out| {
            out.put_bytes(0, 8); // creation and modification time
            out.put_u32(id);
            out.put_u32(0);
            out.put_u32(0); // duration
            out.put_bytes(0, 8);
            out.put_u32(0); // layer, alternate_group
            out.put_u16(if sound { 0x0100 } else { 0 }); // volume
            out.put_u16(0);
            put_matrix(out);
            out.put_u32(width << 16);
            out.put_u32(height << 16);
        });
        boxed(out, b"mdia", |out| {
            full_box(out, b"mdhd", 0, 0, |out| {
                out.put_bytes(0, 8); // creation and modification time
                out.put_u32(timescale);
                out.put_u32(0); // duration
                out.put_u16(0x55c4); // language "und" (ISO 639-2/T, 5-bit letters)
                out.put_u16(0);
            });
            full_box(out, b"hdlr", 0, 0, |out| {
                out.put_u32(0);
                out.put_slice(handler);
                out.put_bytes(0, 12);
                out.put_slice(if sound {
                    b"SoundHandler\0"
                } else {
                    b"VideoHandler\0"
                });
            });
            boxed(out, b"minf", |out| {
                header(out);
                boxed(out, b"dinf", |out| {
                    full_box(out, b"dref", 0, 0, |out| {
                        out.put_u32(1);
                        // Flag 1: the media is in this file.
                        full_box(out, b"url ", 0, 1, |_| {});
                    });
                });
                boxed(out, b"stbl", |out| {
                    full_box(out, b"stsd", 0, 0, |out| {
                        out.put_u32(1);
                        entry(out);
                    });
                    for kind in [b"stts", b"stsc", b"stco"] {
                        full_box(out, kind, 0, 0, |out| out.put_u32(0));
                    }
                    full_box(out, b"stsz", 0, 0, |out| out.put_u64(0));
                });
            });
        });
    });
}

/// trex: the track's defaults for fragments; every trun here gives its own.
fn trex(out: &mut Vec<u8>, track: u32) {
    full_box(out, b"trex", 0, 0, |out| {
        out.put_u32(track);
        out.put_u32(1); // sample description index
        out.put_bytes(0, 12);
    });
}

/// SampleEntry's reserved bytes and data_reference_index 1 (the dref's
/// only entry).
fn sample_entry_header(out: &mut Vec<u8>) {
    out.put_bytes(0, 6);
    out.put_u16(1);
}

/// The identity matrix of mvhd and tkhd.
fn put_matrix(out: &mut Vec<u8>) {
    for v in [0x0001_0000u32, 0, 0, 0, 0x0001_0000, 0, 0, 0, 0x4000_0000] {
        out.put_u32(v);
    }
}

/// AVCDecoderConfigurationRecord (14496-15 5.3.3.1): profile, compatibility
/// and level are the SPS's bytes 1 to 3; NAL units are behind 4-byte sizes.
fn avc_config(out: &mut Vec<u8>, sps: &[u8], pps: &[u8]) {
    let byte = |i| sps.get(i).copied().unwrap_or(0);
    out.put_slice(&[1, byte(1), byte(2), byte(3), 0xfc | 3, 0xe0 | 1]);
    out.put_u16(sps.len() as u16);
    out.put_slice(sps);
    out.put_u8(1);
    out.put_u16(pps.len() as u16);
    out.put_slice(pps);
}

/// An access unit as an MP4 sample: each NAL unit behind its 4-byte size.
fn avcc(nals: &[Bytes]) -> Vec<u8> {
    let mut out = Vec::with_capacity(nals.iter().map(|n| n.len() + 4).sum());
    for nal in nals {
        out.put_u32(nal.len() as u32);
        out.put_slice(nal);
    }
    out
}

/// moof + mdat for the tracks' samples (tracks without samples get no
/// traf). Data offsets count from the moof's first byte
/// (default-base-is-moof), so the fragment can be read alone.
fn fragment(sequence: u32, tracks: [(u32, u64, &[Sample]); 2]) -> Vec<u8> {
    let size: usize = tracks
        .iter()
        .flat_map(|t| t.2)
        .map(|s| s.data.len() + 12)
        .sum();
    let mut out = Vec::with_capacity(size + 200);
    // Where each trun's data_offset is, and where its samples start in the
    // mdat's payload.
    let mut offsets = Vec::new();
    boxed(&mut out, b"moof", |out| {
        full_box(out, b"mfhd", 0, 0, |out| out.put_u32(sequence));
        let mut in_mdat = 0;
        for &(track, time, samples) in &tracks {
            if samples.is_empty() {
                continue;
            }
            boxed(out, b"traf", |out| {
                full_box(out, b"tfhd", 0, 0x02_0000, |out| out.put_u32(track));
                full_box(out, b"tfdt", 1, 0, |out| out.put_u64(time));
                // Flags: data-offset, sample-duration, -size and -flags.
                full_box(out, b"trun", 0, 0x0701, |out| {
                    out.put_u32(samples.len() as u32);
                    offsets.push((out.len(), in_mdat));
                    out.put_u32(0);
                    for s in samples {
                        out.put_u32(s.duration);
                        out.put_u32(s.data.len() as u32);
                        out.put_u32(s.flags);
                    }
                });
            });
            in_mdat += samples.iter().map(|s| s.data.len()).sum::<usize>();
        }
    });
    let payload = out.len() + 8;
    for (at, in_mdat) in offsets {
        let offset = (payload + in_mdat) as u32;
        out[at..at + 4].copy_from_slice(&offset.to_be_bytes());
    }
    let data = tracks.iter().flat_map(|t| t.2);
    boxed(&mut out, b"mdat", |out| {
        data.for_each(|s| out.put_slice(&s.data));
    });
    out
}

/// A box: its size (patched once the body is written) and type.
fn boxed(out: &mut Vec<u8>, kind: &[u8; 4], body: impl FnOnce(&mut Vec<u8>)) {
    let start = out.len();
    out.put_u32(0);
    out.put_slice(kind);
    body(out);
    // A fragment is seconds of media: far from 4 GiB.
    let size = (out.len() - start) as u32;
    out[start..start + 4].copy_from_slice(&size.to_be_bytes());
}

/// A full box: a box whose body starts with a version and 24 bits of flags.
fn full_box(
    out: &mut Vec<u8>,
    kind: &[u8; 4],
    version: u8,
    flags: u32,
    body: impl FnOnce(&mut Vec<u8>),
) {
    boxed(out, kind, |out| {
        out.put_u32(u32::from(version) << 24 | flags & 0xff_ffff);
        body(out);
    });
}

/// The FLAC metadata block STREAMINFO (FLAC format, RFC 9639 8.2) with its
/// header, marked as the last metadata block: block size [`FLAC_BLOCK`],
/// frame sizes and total samples unknown (0), 8000 Hz, one channel, 16
/// bits, no MD5 (zeros).
fn stream_info() -> [u8; 38] {
    let mut b = [0; 38];
    b[0] = 0x80; // last block, type 0 (STREAMINFO)
    b[3] = 34; // length
    let block = (FLAC_BLOCK as u16).to_be_bytes();
    b[4..6].copy_from_slice(&block);
    b[6..8].copy_from_slice(&block);
    // Sample rate (20 bits), channels - 1 (3), bits per sample - 1 (5),
    // total samples (36).
    let packed = u64::from(AUDIO_RATE) << 44 | 15 << 36;
    b[14..22].copy_from_slice(&packed.to_be_bytes());
    b
}

/// A FLAC frame (RFC 9639 9) of one channel: header, one VERBATIM subframe
/// of 16-bit samples, CRC-16. `samples` has [`FLAC_BLOCK`] samples, or
/// fewer in the stream's last frame.
fn flac_frame(number: u32, samples: &[i16]) -> Vec<u8> {
    let n = samples.len();
    let mut f = Vec::with_capacity(2 * n + 16);
    // Sync code and fixed block size strategy.
    f.put_u16(0xfff8);
    // Block size code: 1024 has its own; otherwise n - 1 follows the
    // frame number in 8 or 16 bits. Sample rate code 4: 8 kHz.
    let code = match n {
        FLAC_BLOCK => 0b1010,
        ..=256 => 0b0110,
        _ => 0b0111,
    };
    f.put_u8(code << 4 | 0b0100);
    // Channel assignment 0 (mono), sample size code 4 (16 bits).
    f.put_u8(0b0000_1000);
    put_utf8(&mut f, number);
    match code {
        0b0110 => f.put_u8((n - 1) as u8),
        0b0111 => f.put_u16((n - 1) as u16),
        _ => {}
    }
    f.put_u8(crc8(&f));
    // Subframe header: type VERBATIM (1), no wasted bits.
    f.put_u8(0x02);
    for &s in samples {
        f.put_i16(s);
    }
    f.put_u16(crc16(&f));
    f
}

/// A frame number as FLAC codes it: UTF-8's scheme extended to 31 bits
/// (up to 6 bytes).
fn put_utf8(out: &mut Vec<u8>, n: u32) {
    let n = n & 0x7fff_ffff;
    // Bytes by significant bits: 7 in one byte, then 11, 16, 21, 26, 31.
    let len = match u32::BITS - n.leading_zeros() {
        0..=7 => {
            out.put_u8(n as u8);
            return;
        }
        8..=11 => 2,
        12..=16 => 3,
        17..=21 => 4,
        22..=26 => 5,
        _ => 6,
    };
    let prefix = (0xff00u16 >> len) as u8;
    out.put_u8(prefix | (n >> (6 * (len - 1))) as u8);
    for i in (0..len - 1).rev() {
        out.put_u8(0x80 | (n >> (6 * i)) as u8 & 0x3f);
    }
}

/// FLAC's header CRC: CRC-8, polynomial x^8 + x^2 + x + 1, initial 0.
fn crc8(data: &[u8]) -> u8 {
    data.iter().fold(0, |crc, &b| {
        (0..8).fold(
            crc ^ b,
            |c, _| {
                if c & 0x80 != 0 {
                    c << 1 ^ 0x07
                } else {
                    c << 1
                }
            },
        )
    })
}

/// FLAC's frame CRC: CRC-16, polynomial x^16 + x^15 + x^2 + 1, initial 0.
fn crc16(data: &[u8]) -> u16 {
    data.iter().fold(0, |crc, &b| {
        (0..8).fold(crc ^ u16::from(b) << 8, |c, _| {
            if c & 0x8000 != 0 {
                c << 1 ^ 0x8005
            } else {
                c << 1
            }
        })
    })
}

#[cfg(test)]
mod tests;
