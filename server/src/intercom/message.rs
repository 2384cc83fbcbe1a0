//! Leave Message: nobody answered the door's call, so the door records
//! the visitor (its camera and microphone) for up to the Message Time, as
//! a fragmented MP4 that a browser plays (H.264 as the camera sends it,
//! the microphone's G.711 as lossless FLAC), to the Storage Point. The file
//! is written as it is recorded and named when complete; the Storage
//! Point is then rotated to its bounds (the oldest files go first).

use std::{sync::Arc, time::Duration};

use app::model::time::UnixMillis;
use bytes::Bytes;
use media::{g711, h264, mp4};

use crate::video::{
    hub,
    storage_point::{self, StoragePoint},
    Source,
};

/// The files' kind (`message-<begin>-<duration>.mp4`).
pub const KIND: &str = "message";
/// How much is recorded before it is written out.
const FRAGMENT_MS: u64 = 1000;
/// How long the recording waits for the camera's first key frame.
const KEY_WAIT: Duration = Duration::from_secs(5);
const QUEUE: usize = 64;

enum Write {
    Data(Vec<u8>),
    Commit(String),
}

/// Records the door for `limit` into a new file of the Storage Point
/// `setting`; the file's name once complete.
pub async fn record(
    door: Arc<Source>,
    storage: Arc<StoragePoint>,
    setting: String,
    begin: UnixMillis,
    limit: Duration,
) -> Result<String, String> {
    // The Message Time counts from here: the sound before the camera's
    // first key frame is in the file too.
    let until = crate::clock::monotonic() + limit;
    let mut video = door.subscribe(QUEUE);
    let mut audio = door.subscribe_audio(QUEUE);
    let first = hub::next_key(&mut video, KEY_WAIT)
        .await
        .ok_or("no picture from the door camera")?;
    let nals = h264::split_annex_b(&first.data);
    let find = |t| nals.iter().find(|n| h264::nal_type(n) == t).cloned();
    let (Some(sps), Some(pps)) = (find(h264::SPS), find(h264::PPS)) else {
        return Err("the door camera's key frame has no SPS and PPS".into());
    };
    let mut writer = mp4::Writer::new(
        mp4::VideoTrack {
            width: first.width,
            height: first.height,
            sps,
            pps,
        },
        true,
    );
    // The disk is written on a blocking thread, fragment by fragment.
    let (tx, rx) = std::sync::mpsc::channel::<Write>();
    let disk = {
        let (storage, setting) = (storage.clone(), setting.clone());
        tokio::task::spawn_blocking(move || -> Result<String, String> {
            let mut part = storage.create(&setting).map_err(|e| e.to_string())?;
            for w in rx {
                match w {
                    Write::Data(b) => part.write(&b).map_err(|e| e.to_string())?,
                    Write::Commit(name) => {
                        part.commit(&name).map_err(|e| e.to_string())?;
                        return Ok(name);
                    }
                }
            }
            // The recording stopped short: the part is removed.
            Err("the recording stopped".into())
        })
    };
    let _ = tx.send(Write::Data(writer.init()));
    let start = first.pts_ms;
    push_video(&mut writer, &first.data, 0, true);
    let deadline = tokio::time::sleep_until(until);
    tokio::pin!(deadline);
    let mut written_ms = 0;
    loop {
        tokio::select! {
            f = video.recv() => match f {
                Some(f) => {
                    let at = u64::try_from(f.pts_ms - start).unwrap_or(0) * 90;
                    push_video(&mut writer, &f.data, at, f.key);
                }
                None => break,
            },
            Some(a) = audio.recv() => {
                let pcm: Vec<i16> = a.data.iter().map(|&c| g711::ulaw_decode(c)).collect();
                writer.push_audio(&pcm);
            }
            _ = &mut deadline => break,
        }
        if writer.duration_ms() >= written_ms + FRAGMENT_MS {
            written_ms = writer.duration_ms();
            if let Some(b) = writer.fragment() {
                let _ = tx.send(Write::Data(b));
            }
        }
    }
    if let Some(b) = writer.finish() {
        let _ = tx.send(Write::Data(b));
    }
    let name = storage_point::message_file(begin, writer.duration_ms());
    let _ = tx.send(Write::Commit(name));
    drop(tx);
    let saved = disk.await.map_err(|e| e.to_string())??;
    let _ = tokio::task::spawn_blocking(move || storage.rotate(&setting)).await;
    Ok(saved)
}

fn push_video(writer: &mut mp4::Writer, annex_b: &Bytes, at_90k: u64, key: bool) {
    let nals = h264::split_annex_b(annex_b);
    writer.push_video(at_90k, key, &nals);
}

/// (begin, duration) of a message file's name.
pub fn parse_name(name: &str) -> Option<(UnixMillis, u64)> {
    let stem = name.strip_prefix("message-")?.strip_suffix(".mp4")?;
    let (begin, duration) = stem.split_once('-')?;
    Some((UnixMillis(begin.parse().ok()?), duration.parse().ok()?))
}
