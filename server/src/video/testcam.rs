//! The built-in test camera (the embedded default source): a moving test
//! pattern with the device's time drawn on it, encoded to H.264 in-process
//! with openh264. It encodes only while someone watches.

use std::{sync::Arc, time::Duration};

use app::model::{
    live::SourceState,
    video::{AudioSettings, PictureSettings},
};

use bytes::Bytes;
use openh264::{
    encoder::{BitRate, Encoder, EncoderConfig, FrameRate, FrameType, IntraFramePeriod},
    formats::YUVBuffer,
    OpenH264API,
};

use super::{g711, hub::Frame, picture, IdleTimer, Source};
use crate::system::time::TimeService;

/// What the camera makes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Format {
    pub width: u16,
    pub height: u16,
    pub fps: u8,
    pub bitrate_kbps: u32,
    pub picture: PictureSettings,
    pub audio: AudioSettings,
}

impl Default for Format {
    /// Main stream 720P at 25 frames per second (manual 4.2 defaults).
    fn default() -> Self {
        Self {
            width: 1280,
            height: 720,
            fps: 25,
            bitrate_kbps: 2048,
            picture: PictureSettings::default(),
            audio: AudioSettings::default(),
        }
    }
}

impl Format {
    pub fn frame_interval(&self) -> Duration {
        Duration::from_micros(1_000_000 / u64::from(self.fps.max(1)))
    }
}

/// 5x7 glyphs for what a time shows, one row per byte (low 5 bits).
fn glyph(c: char) -> [u8; 7] {
    match c {
        '0' => [14, 17, 19, 21, 25, 17, 14],
        '1' => [4, 12, 4, 4, 4, 4, 14],
        '2' => [14, 17, 1, 2, 4, 8, 31],
        '3' => [31, 2, 4, 2, 1, 17, 14],
        '4' => [2, 6, 10, 18, 31, 2, 2],
        '5' => [31, 16, 30, 1, 1, 17, 14],
        '6' => [6, 8, 16, 30, 17, 17, 14],
        '7' => [31, 1, 2, 4, 8, 8, 8],
        '8' => [14, 17, 17, 14, 17, 17, 14],
        '9' => [14, 17, 17, 15, 1, 2, 12],
        '-' => [0, 0, 0, 31, 0, 0, 0],
        ':' => [0, 12, 12, 0, 12, 12, 0],
        '/' => [1, 1, 2, 4, 8, 16, 16],
        'A' => [14, 17, 17, 31, 17, 17, 17],
        'P' => [30, 17, 17, 30, 16, 16, 16],
        'M' => [17, 27, 21, 21, 17, 17, 17],
        _ => [0; 7],
    }
}

/// Draws the picture for frame number `n` with `text` (the time) into a
/// YUV 4:2:0 buffer of `f`'s size: the scene, adjusted as `f.picture` says
/// (`night` for its Automatic modes), then the time on top, unadjusted like
/// a camera's overlay.
pub fn render(f: &Format, n: u64, text: &str, night: bool) -> YUVBuffer {
    let (w, h) = (usize::from(f.width), usize::from(f.height));
    let mut buf = vec![0u8; w * h * 3 / 2];
    let (y_plane, uv) = buf.split_at_mut(w * h);
    let (u_plane, v_plane) = uv.split_at_mut(w * h / 4);
    // Eight vertical bars (Y, U, V of the classic colour bars), sliding.
    const BARS: [(u8, u8, u8); 8] = [
        (235, 128, 128),
        (210, 16, 146),
        (170, 166, 16),
        (145, 54, 34),
        (106, 202, 222),
        (81, 90, 240),
        (41, 240, 110),
        (16, 128, 128),
    ];
    let shift = (n as usize * 4) % w;
    let bar = |x: usize| BARS[((x + shift) % w) * 8 / w];
    for row in 0..h {
        for x in 0..w {
            y_plane[row * w + x] = bar(x).0;
        }
    }
    for row in 0..h / 2 {
        for x in 0..w / 2 {
            let (_, u, v) = bar(x * 2);
            u_plane[row * (w / 2) + x] = u;
            v_plane[row * (w / 2) + x] = v;
        }
    }
    // A white square bouncing along the bottom: motion anyone can see.
    let side = h / 8;
    let span = w.saturating_sub(side).max(1);
    let pos = (n as usize * 8) % (2 * span);
    let left = if pos < span { pos } else { 2 * span - pos };
    let top = h - side - h / 16;
    for row in top..top + side {
        y_plane[row * w + left..row * w + left + side].fill(235);
    }
    for row in top / 2..(top + side) / 2 {
        let at = row * (w / 2) + left / 2;
        u_plane[at..at + side / 2].fill(128);
        v_plane[at..at + side / 2].fill(128);
    }
    picture::adjust(&mut buf, w, h, &f.picture, night);
    let (y_plane, uv) = buf.split_at_mut(w * h);
    let (u_plane, v_plane) = uv.split_at_mut(w * h / 4);
    // The time, white on a black band across the top.
    let scale = (h / 90).max(1);
    let band = 9 * scale;
    y_plane[..band * w].fill(16);
    u_plane[..band / 2 * (w / 2)].fill(128);
    v_plane[..band / 2 * (w / 2)].fill(128);
    for (i, c) in text.chars().enumerate() {
        let x0 = scale + i * 6 * scale;
        if x0 + 5 * scale > w {
            break;
        }
        for (gy, bits) in glyph(c).iter().enumerate() {
            for gx in 0..5 {
                if bits & (1 << (4 - gx)) != 0 {
                    for dy in 0..scale {
                        let row = scale + gy * scale + dy;
                        let start = row * w + x0 + gx * scale;
                        y_plane[start..start + scale].fill(235);
                    }
                }
            }
        }
    }
    YUVBuffer::from_vec(buf, w, h)
}

/// One audio frame of the test camera: 20 ms at 8 kHz.
const TONE_FRAME_MS: u64 = 20;
const TONE_SAMPLES: usize = 160;

/// Audio frame number `n` of the test camera, G.711 μ-law: what its
/// microphone hears (a 440 Hz tone at Mic Volume) and its beep (1 kHz for
/// 100 ms every 2 s at Beep Volume), mixed.
pub fn tone(n: u64, audio: &AudioSettings) -> Vec<u8> {
    use std::f64::consts::TAU;
    let level = |volume: u8| 12_000.0 * f64::from(volume.min(100)) / 100.0;
    let (mic, beep) = (level(audio.mic_volume), level(audio.beep_volume));
    let beeping = n % 100 < 5;
    (0..TONE_SAMPLES)
        .map(|i| {
            let t = (n as f64 * TONE_SAMPLES as f64 + i as f64) / 8000.0;
            let mut x = mic * (TAU * 440.0 * t).sin();
            if beeping {
                x += beep * (TAU * 1000.0 * t).sin();
            }
            g711::linear_to_ulaw(x.clamp(-32_000.0, 32_000.0) as i16)
        })
        .collect()
}

/// An H.264 encoder for the test pattern.
pub struct TestCamera {
    format: Format,
    encoder: Encoder,
    frames: u64,
}

impl TestCamera {
    pub fn new(format: Format) -> Result<Self, String> {
        let config = EncoderConfig::new()
            .bitrate(BitRate::from_bps(format.bitrate_kbps.saturating_mul(1000)))
            .max_frame_rate(FrameRate::from_hz(f32::from(format.fps)))
            // A key frame every 2 s: new viewers and snapshots wait at most that.
            .intra_frame_period(IntraFramePeriod::from_num_frames(u32::from(format.fps) * 2));
        let encoder = Encoder::with_api_config(OpenH264API::from_source(), config)
            .map_err(|e| format!("H.264 encoder: {e}"))?;
        Ok(Self {
            format,
            encoder,
            frames: 0,
        })
    }

    /// Encodes the next picture, showing `text`, taken at `pts_ms`.
    pub fn next_frame(
        &mut self,
        text: &str,
        pts_ms: i64,
        night: bool,
    ) -> Result<Option<Frame>, String> {
        let yuv = render(&self.format, self.frames, text, night);
        self.frames += 1;
        let encoded = self
            .encoder
            .encode(&yuv)
            .map_err(|e| format!("H.264 encoder: {e}"))?;
        let key = matches!(encoded.frame_type(), FrameType::IDR | FrameType::I);
        if matches!(encoded.frame_type(), FrameType::Skip | FrameType::Invalid) {
            return Ok(None);
        }
        Ok(Some(Frame {
            data: Bytes::from(encoded.to_vec()),
            key,
            pts_ms,
            width: self.format.width,
            height: self.format.height,
        }))
    }
}

/// Feeds `source` from a test camera making `format` while anybody
/// watches; stops encoding when nobody has for a while.
pub async fn run(source: Arc<Source>, format: Format, time: Arc<TimeService>) {
    loop {
        source.wait_for_consumers().await;
        source.set_status(SourceState::Connecting, "");
        let camera = tokio::task::spawn_blocking(move || TestCamera::new(format)).await;
        let mut camera = match camera {
            Ok(Ok(c)) => c,
            Ok(Err(e)) => {
                tracing::error!(error = %e, "test camera");
                source.set_status(SourceState::Error, e);
                tokio::time::sleep(Duration::from_secs(5)).await;
                continue;
            }
            Err(e) => {
                tracing::error!(error = %e, "test camera");
                source.set_status(SourceState::Error, e.to_string());
                return;
            }
        };
        tracing::info!(
            width = format.width,
            height = format.height,
            fps = format.fps,
            "test camera on"
        );
        let mut tick = tokio::time::interval(format.frame_interval());
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        let mut idle = IdleTimer::default();
        let mut audio_tick = tokio::time::interval(Duration::from_millis(TONE_FRAME_MS));
        let mut audio_frames = 0u64;
        source.set_audio(if format.audio.enabled {
            "G.711 μ-law (test tone)"
        } else {
            ""
        });
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                _ = audio_tick.tick(), if format.audio.enabled => {
                    source.publish_audio(&Frame {
                        data: Bytes::from(tone(audio_frames, &format.audio)),
                        key: true,
                        pts_ms: audio_frames as i64 * TONE_FRAME_MS as i64,
                        width: 0,
                        height: 0,
                    });
                    audio_frames += 1;
                    continue;
                }
            }
            let now = time.now();
            let text = time.format(now);
            let night = picture::is_night(time.display().local(now));
            // Encoding takes milliseconds: off the async workers.
            let encoded = tokio::task::spawn_blocking(move || {
                let r = camera.next_frame(&text, now.0, night);
                (camera, r)
            })
            .await;
            let Ok((c, result)) = encoded else {
                tracing::error!("test camera encoder panicked");
                break;
            };
            camera = c;
            let left = match result {
                Ok(Some(frame)) => source.publish(&frame),
                Ok(None) => source.consumers(),
                Err(e) => {
                    tracing::warn!(error = %e, "test camera frame");
                    source.consumers()
                }
            };
            if idle.expired(left, crate::clock::monotonic()) {
                break;
            }
        }
        source.stopped();
        tracing::info!("test camera off: nobody watches");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn loudness(frame: &[u8]) -> f64 {
        let sum: f64 = frame
            .iter()
            .map(|&u| f64::from(g711::ulaw_to_linear(u)).powi(2))
            .sum();
        (sum / frame.len() as f64).sqrt()
    }

    #[test]
    fn the_tone_follows_mic_and_beep_volume() {
        let audio = |mic, beep| AudioSettings {
            enabled: true,
            mic_volume: mic,
            beep_volume: beep,
        };
        assert_eq!(tone(7, &audio(50, 50)).len(), 160, "20 ms at 8 kHz");
        // Mic Volume: the tone between beeps.
        let quiet = loudness(&tone(50, &audio(20, 100)));
        let loud = loudness(&tone(50, &audio(80, 100)));
        assert!(loud > quiet * 3.0, "{quiet} {loud}");
        assert!(loudness(&tone(50, &audio(0, 100))) < 5.0, "silence");
        // Beep Volume: only while it beeps (the first 100 ms of every 2 s).
        let beep = loudness(&tone(100, &audio(0, 80)));
        assert!(beep > 1000.0, "{beep}");
        assert!(loudness(&tone(100, &audio(0, 0))) < 5.0);
    }

    #[test]
    fn the_time_is_drawn_white_on_black() {
        let f = Format {
            width: 320,
            height: 180,
            ..Format::default()
        };
        use openh264::formats::YUVSource;
        let a = render(&f, 0, "8", false);
        let b = render(&f, 0, "1", false);
        // The top-left corner of an "8" is lit, of a "1" not (scale 2).
        let px = |y: &YUVBuffer, x: usize, row: usize| y.y()[row * 320 + x];
        assert_eq!(px(&a, 2 + 2, 2), 235);
        assert_eq!(px(&b, 2 + 2, 2), 16);
        assert_ne!(a.y(), b.y());
        // Motion: the next frame differs.
        assert_ne!(render(&f, 1, "8", false).y(), a.y());
        // The picture settings change the scene, not the time drawn on it.
        let mirrored = Format {
            picture: PictureSettings {
                mirror: true,
                brightness: 90,
                ..PictureSettings::default()
            },
            ..f
        };
        let m = render(&mirrored, 0, "8", false);
        assert_eq!(px(&m, 2 + 2, 2), 235);
        assert_eq!(px(&m, 300, 17), 16, "the black band stays");
        assert_ne!(m.y(), a.y());
    }

    #[test]
    fn encodes_h264_that_decodes_at_its_size() {
        let f = Format {
            width: 640,
            height: 360,
            fps: 10,
            bitrate_kbps: 500,
            ..Format::default()
        };
        let mut cam = TestCamera::new(f).unwrap_or_else(|e| panic!("{e}"));
        let first = cam
            .next_frame("2026-11-26 12:00:00", 0, false)
            .unwrap_or_else(|e| panic!("{e}"))
            .unwrap_or_else(|| panic!("no frame"));
        assert!(first.key, "starts with a key frame");
        assert!(first.data.starts_with(&[0, 0, 0, 1]), "Annex B");
        let mut keys = 1;
        for n in 1..25 {
            if let Ok(Some(fr)) = cam.next_frame("2026-11-26 12:00:01", n * 100, false) {
                keys += usize::from(fr.key);
            }
        }
        assert_eq!(keys, 2, "a key frame every 2 s (20 frames at 10 fps)");
        let (w, h, _) =
            super::super::snapshot::decode_rgb(&first.data).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((w, h), (640, 360));
    }
}
