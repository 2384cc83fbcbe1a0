//! One source, many consumers: every frame a source publishes goes to each
//! subscriber's own bounded queue. A consumer that falls behind loses frames
//! only for itself: its queue is full, so it skips to the next key frame;
//! the source and the other consumers never wait for it. Pure: no I/O, no
//! tasks; the source calls [`Fanout::publish`].

use bytes::Bytes;
use tokio::sync::mpsc;

/// One encoded picture: an H.264 access unit in Annex B form (start codes;
/// SPS and PPS before every key frame).
#[derive(Clone, Debug)]
pub struct Frame {
    pub data: Bytes,
    pub key: bool,
    /// The source's own time of the picture, in milliseconds.
    pub pts_ms: i64,
    pub width: u16,
    pub height: u16,
}

/// The next key frame of a consumer's queue, waiting at most `wait`.
pub async fn next_key(rx: &mut mpsc::Receiver<Frame>, wait: std::time::Duration) -> Option<Frame> {
    tokio::time::timeout(wait, async {
        while let Some(f) = rx.recv().await {
            if f.key {
                return Some(f);
            }
        }
        None
    })
    .await
    .ok()
    .flatten()
}

struct Slot {
    tx: mpsc::Sender<Frame>,
    /// Waiting for a key frame: at the start, and after a full queue.
    need_key: bool,
}

/// The subscribers of one source.
#[derive(Default)]
pub struct Fanout {
    slots: Vec<Slot>,
    last_key: Option<Frame>,
}

impl Fanout {
    /// A new consumer with a queue of `depth` frames. It starts at the
    /// newest key frame (at once, if the source sent one) so it can decode
    /// from its first frame.
    pub fn subscribe(&mut self, depth: usize) -> mpsc::Receiver<Frame> {
        let (tx, rx) = mpsc::channel(depth.max(1));
        let mut need_key = true;
        if let Some(key) = &self.last_key {
            need_key = tx.try_send(key.clone()).is_err();
        }
        self.slots.push(Slot { tx, need_key });
        rx
    }

    /// Hands `frame` to every consumer that can take it; drops consumers
    /// that went away. Returns how many are left.
    pub fn publish(&mut self, frame: &Frame) -> usize {
        if frame.key {
            self.last_key = Some(frame.clone());
        }
        self.slots.retain_mut(|slot| {
            if slot.need_key && !frame.key {
                return !slot.tx.is_closed();
            }
            match slot.tx.try_send(frame.clone()) {
                Ok(()) => {
                    slot.need_key = false;
                    true
                }
                // Behind: drop this frame and the rest of its group for
                // this consumer only.
                Err(mpsc::error::TrySendError::Full(_)) => {
                    slot.need_key = true;
                    true
                }
                Err(mpsc::error::TrySendError::Closed(_)) => false,
            }
        });
        self.slots.len()
    }

    pub fn subscribers(&mut self) -> usize {
        self.slots.retain(|s| !s.tx.is_closed());
        self.slots.len()
    }

    /// Forgets the cached key frame (the source stopped, broke or changed
    /// format): every consumer waits for the next stream's key frame, as
    /// what comes first may refer to pictures it never had.
    pub fn reset(&mut self) {
        self.last_key = None;
        for slot in &mut self.slots {
            slot.need_key = true;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(n: i64, key: bool) -> Frame {
        Frame {
            data: Bytes::from(n.to_le_bytes().to_vec()),
            key,
            pts_ms: n,
            width: 16,
            height: 16,
        }
    }

    fn drain(rx: &mut mpsc::Receiver<Frame>) -> Vec<i64> {
        let mut out = Vec::new();
        while let Ok(f) = rx.try_recv() {
            out.push(f.pts_ms);
        }
        out
    }

    #[test]
    fn every_consumer_gets_every_frame_from_a_key_frame_on() {
        let mut hub = Fanout::default();
        let mut a = hub.subscribe(8);
        hub.publish(&frame(0, false)); // nobody can decode this yet
        hub.publish(&frame(1, true));
        let mut b = hub.subscribe(8); // starts at the cached key frame
        hub.publish(&frame(2, false));
        assert_eq!(drain(&mut a), vec![1, 2]);
        assert_eq!(drain(&mut b), vec![1, 2]);
    }

    #[test]
    fn a_slow_consumer_skips_to_the_next_key_frame_alone() {
        let mut hub = Fanout::default();
        let mut fast = hub.subscribe(16);
        let mut slow = hub.subscribe(2);
        hub.publish(&frame(0, true));
        for n in 1..6 {
            hub.publish(&frame(n, false));
            drain(&mut fast);
        }
        // slow read nothing: it holds 0 and 1, then dropped 2..5.
        hub.publish(&frame(6, false));
        assert_eq!(drain(&mut slow), vec![0, 1]);
        hub.publish(&frame(7, false)); // still waiting for a key frame
        hub.publish(&frame(8, true));
        hub.publish(&frame(9, false));
        assert_eq!(drain(&mut slow), vec![8, 9]);
        assert_eq!(drain(&mut fast), vec![6, 7, 8, 9]);
    }

    #[test]
    fn consumers_that_leave_are_dropped() {
        let mut hub = Fanout::default();
        let a = hub.subscribe(4);
        let _b = hub.subscribe(4);
        assert_eq!(hub.publish(&frame(0, true)), 2);
        drop(a);
        assert_eq!(hub.publish(&frame(1, false)), 1);
        assert_eq!(hub.subscribers(), 1);
        hub.reset();
        // After a reset a new consumer waits for a fresh key frame.
        let mut c = hub.subscribe(4);
        hub.publish(&frame(2, false));
        assert!(drain(&mut c).is_empty());
    }

    #[test]
    fn after_a_reset_everybody_waits_for_a_key_frame() {
        let mut hub = Fanout::default();
        let mut a = hub.subscribe(8);
        hub.publish(&frame(0, true));
        hub.publish(&frame(1, false));
        hub.reset(); // the camera came back: a new stream
        hub.publish(&frame(2, false));
        hub.publish(&frame(3, true));
        assert_eq!(drain(&mut a), vec![0, 1, 3]);
    }
}
