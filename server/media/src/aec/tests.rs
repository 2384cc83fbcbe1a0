//! A synthetic door: a speech-like far end played through a room (a bulk
//! delay and an exponentially decaying random impulse response), heard by
//! the microphone with a little self-noise and, when it speaks, a local
//! talker. Everything is seeded: the figures are the same at every run.

use super::*;

const SECOND: usize = RATE as usize;
/// The caller's usual block: 20 ms.
const BLOCK: usize = 160;
const TAIL_MS: u32 = 128;
/// The tail in samples: the far end's last sample leaves it after these.
const TAIL: usize = TAIL_MS as usize * PER_MS;

/// SplitMix64: small, deterministic, good enough for noise.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// In [0, 1).
    fn uniform(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }

    fn range(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.uniform()
    }

    /// Standard normal (Box-Muller).
    fn gauss(&mut self) -> f64 {
        let u = 1.0 - self.uniform();
        let v = self.uniform();
        (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
    }
}

/// A second-order section (the Audio EQ Cookbook's).
#[derive(Clone)]
struct Biquad {
    b: [f64; 3],
    a: [f64; 2],
    x: [f64; 2],
    y: [f64; 2],
}

impl Biquad {
    fn new(f: f64, high: bool) -> Self {
        let w = std::f64::consts::TAU * f / f64::from(RATE);
        let alpha = w.sin() / (2.0 * std::f64::consts::FRAC_1_SQRT_2);
        let c = w.cos();
        let a0 = 1.0 + alpha;
        let b = if high {
            [(1.0 + c) / 2.0, -(1.0 + c), (1.0 + c) / 2.0]
        } else {
            [(1.0 - c) / 2.0, 1.0 - c, (1.0 - c) / 2.0]
        };
        Self {
            b: b.map(|v| v / a0),
            a: [-2.0 * c / a0, (1.0 - alpha) / a0],
            x: [0.0; 2],
            y: [0.0; 2],
        }
    }

    fn run(&mut self, x: f64) -> f64 {
        let y = self.b[0] * x + self.b[1] * self.x[0] + self.b[2] * self.x[1]
            - self.a[0] * self.y[0]
            - self.a[1] * self.y[1];
        self.x = [x, self.x[0]];
        self.y = [y, self.y[0]];
        y
    }
}

/// Speech-like: noise band-limited to `lo`..`hi` Hz (24 dB an octave
/// outside), its level modulated at a syllable rate (3 to 6 Hz) in talk
/// spurts of 0.8 to 2.5 s with pauses of 0.15 to 0.6 s between them,
/// starting with a spurt; `rms` is its level during spurts.
fn talker(seed: u64, lo: f64, hi: f64, rms: f64, len: usize) -> Vec<f64> {
    let mut rng = Rng(seed);
    let mut filters = [
        Biquad::new(lo, true),
        Biquad::new(lo, true),
        Biquad::new(hi, false),
        Biquad::new(hi, false),
    ];
    let mut band = |rng: &mut Rng| {
        filters
            .iter_mut()
            .fold(rng.gauss(), |x, filter| filter.run(x))
    };
    // The band's own level, to scale it to `rms`.
    let warm: Vec<f64> = (0..SECOND).map(|_| band(&mut rng)).collect();
    let band_rms = power(&warm).sqrt();
    // A syllable envelope 0.1 + 0.9 sin², whose mean square is 0.4.
    let scale = rms / band_rms / 0.4f64.sqrt();

    let mut out = Vec::with_capacity(len);
    while out.len() < len {
        let spurt = (rng.range(0.8, 2.5) * SECOND as f64) as usize;
        let syllable = rng.range(3.0, 6.0);
        for i in 0..spurt {
            let t = i as f64 / SECOND as f64;
            let envelope = 0.1 + 0.9 * (std::f64::consts::PI * syllable * t).sin().powi(2);
            out.push(scale * envelope * band(&mut rng));
        }
        let pause = (rng.range(0.15, 0.6) * SECOND as f64) as usize;
        out.extend(std::iter::repeat_n(0.0, pause));
    }
    out.truncate(len);
    out
}

/// A room: `delay` samples of nothing, then `len` random taps decaying by
/// e every `decay` samples, scaled to an energy gain of `gain` (the echo's
/// power over the far end's, for a white far end).
fn room(seed: u64, delay: usize, len: usize, decay: f64, gain: f64) -> Vec<f64> {
    let mut rng = Rng(seed);
    let mut h = vec![0.0; delay];
    h.extend((0..len).map(|k| rng.gauss() * (-(k as f64) / decay).exp()));
    let norm = h.iter().map(|v| v * v).sum::<f64>().sqrt();
    h.iter().map(|v| v * gain.sqrt() / norm).collect()
}

/// The echo of `far` through the rooms: `rooms[i].0` from that sample on.
fn echo(far: &[i16], rooms: &[(usize, Vec<f64>)]) -> Vec<f64> {
    (0..far.len())
        .map(|n| {
            let h = &rooms
                .iter()
                .rev()
                .find(|(from, _)| *from <= n)
                .unwrap_or(&rooms[0])
                .1;
            h.iter()
                .enumerate()
                .take(n + 1)
                .filter(|(_, c)| **c != 0.0)
                .map(|(k, c)| c * f64::from(far[n - k]))
                .sum()
        })
        .collect()
}

fn power(v: &[f64]) -> f64 {
    v.iter().map(|v| v * v).sum::<f64>() / v.len().max(1) as f64
}

fn db(ratio: f64) -> f64 {
    10.0 * ratio.log10()
}

fn to_i16(v: f64) -> i16 {
    v.round().clamp(-32768.0, 32767.0) as i16
}

/// One run at the door.
struct Scene {
    far: Vec<i16>,
    /// The echo in the microphone.
    echo: Vec<f64>,
    near: Vec<i16>,
}

impl Scene {
    /// `local`: the local talker, if any, at the microphone (padded with
    /// silence); the microphone also has a little noise (about -80 dBFS).
    fn new(far: Vec<f64>, rooms: &[(usize, Vec<f64>)], local: &[f64]) -> Self {
        let far: Vec<i16> = far.into_iter().map(to_i16).collect();
        let echo = echo(&far, rooms);
        let mut rng = Rng(99);
        let near = echo
            .iter()
            .enumerate()
            .map(|(n, e)| to_i16(e + local.get(n).copied().unwrap_or(0.0) + 3.0 * rng.gauss()))
            .collect();
        Self { far, echo, near }
    }

    /// Through the canceller in 20 ms blocks.
    fn cancel(&self, aec: &mut EchoCanceller) -> Vec<i16> {
        let mut out = vec![0; self.near.len()];
        for ((far, near), out) in self
            .far
            .chunks(BLOCK)
            .zip(self.near.chunks(BLOCK))
            .zip(out.chunks_mut(BLOCK))
        {
            aec.process(far, near, out);
        }
        out
    }

    /// Echo over the residual echo (the output less what the microphone
    /// heard besides the echo), in dB, over samples `from..to`.
    fn erle(&self, out: &[i16], from: usize, to: usize) -> f64 {
        let residual: Vec<f64> = (from..to)
            .map(|n| f64::from(out[n]) - (f64::from(self.near[n]) - self.echo[n]))
            .collect();
        db(power(&self.echo[from..to]) / power(&residual))
    }

    /// The ERLE of every half second, for the report.
    fn trace(&self, out: &[i16]) -> String {
        (0..self.near.len() / (SECOND / 2))
            .map(|i| {
                let (from, to) = (i * SECOND / 2, (i + 1) * SECOND / 2);
                format!("{:.1}", self.erle(out, from, to))
            })
            .collect::<Vec<_>>()
            .join(" ")
    }
}

const FAR_RMS: f64 = 3000.0;
/// The echo as loud as the far end less 2 dB: a speaker a few centimetres
/// from the microphone.
const ECHO_GAIN: f64 = 0.63;

fn far(seconds: usize) -> Vec<f64> {
    talker(1, 300.0, 3400.0, FAR_RMS, seconds * SECOND)
}

/// 30 ms of delay, then a 70 ms room decaying by e every 10 ms.
fn first_room() -> Vec<f64> {
    room(2, 240, 560, 80.0, ECHO_GAIN)
}

#[test]
fn far_end_only_converges() {
    let scene = Scene::new(far(6), &[(0, first_room())], &[]);
    let mut aec = EchoCanceller::new(TAIL_MS);
    let out = scene.cancel(&mut aec);
    println!("far end only, ERLE every 0.5 s: {}", scene.trace(&out));

    let erle = scene.erle(&out, 4 * SECOND, 6 * SECOND);
    let last = scene.erle(&out, 5 * SECOND, 6 * SECOND);
    println!(
        "far end only: ERLE {erle:.1} dB over the last 2 s, {last:.1} dB over the last second, erle_db() {:.1} dB",
        aec.erle_db()
    );
    assert!(erle >= 20.0, "ERLE {erle:.1} dB");
    assert!(
        (f64::from(aec.erle_db()) - last).abs() < 3.0,
        "erle_db() {} against {last:.1} dB",
        aec.erle_db()
    );
}

#[test]
fn double_talk_keeps_the_local_talker_and_the_filter() {
    let from = 4 * SECOND;
    let to = 5 * SECOND;
    // A different voice: lower band, as loud as the echo (double talk at
    // 0 dB), for one second once the filter has converged.
    let mut local = vec![0.0; from];
    local.extend(talker(
        7,
        150.0,
        1500.0,
        FAR_RMS * ECHO_GAIN.sqrt(),
        to - from,
    ));
    let scene = Scene::new(far(7), &[(0, first_room())], &local);
    assert!(
        db(power(&scene.echo[from..to]) / power(&local[from..to])) > -3.0,
        "the far end speaks through the double talk"
    );
    let mut aec = EchoCanceller::new(TAIL_MS);
    let out = scene.cancel(&mut aec);
    println!("double talk 4-5 s, ERLE every 0.5 s: {}", scene.trace(&out));

    let before = scene.erle(&out, 3 * SECOND, from);
    let during = scene.erle(&out, from, to);
    let after = scene.erle(&out, to, 6 * SECOND);
    let then = scene.erle(&out, 6 * SECOND, 7 * SECOND);
    // The local talker's part of the output: its projection on the talker.
    let talker = &local[from..to];
    let kept = (from..to)
        .map(|n| f64::from(out[n]) * local[n])
        .sum::<f64>()
        / talker.iter().map(|v| v * v).sum::<f64>();
    let kept_db = db(kept * kept);
    println!(
        "double talk: ERLE {before:.1} dB before, {during:.1} dB during, {after:.1} dB and {then:.1} dB the two seconds after; the talker kept at {kept_db:+.2} dB"
    );
    assert!(before >= 20.0, "ERLE before the double talk {before:.1} dB");
    assert!(during >= 15.0, "ERLE during the double talk {during:.1} dB");
    assert!(kept_db.abs() <= 3.0, "the talker at {kept_db:+.2} dB");
    assert!(after >= 15.0, "ERLE after the double talk {after:.1} dB");
    assert!(then >= 15.0, "ERLE later {then:.1} dB");
}

#[test]
fn echo_path_change_reconverges() {
    let change = 6 * SECOND;
    // Someone in front of the door: another room, and 5 ms less delay.
    let rooms = [
        (0, first_room()),
        (change, room(3, 200, 560, 80.0, ECHO_GAIN)),
    ];
    let scene = Scene::new(far(10), &rooms, &[]);
    let mut aec = EchoCanceller::new(TAIL_MS);
    let out = scene.cancel(&mut aec);
    println!(
        "path change at 6 s, ERLE every 0.5 s: {}",
        scene.trace(&out)
    );

    let before = scene.erle(&out, 4 * SECOND, change);
    let just_after = scene.erle(&out, change, change + SECOND / 2);
    let within = scene.erle(&out, change + 5 * SECOND / 2, change + 3 * SECOND);
    let then = scene.erle(&out, change + 3 * SECOND, change + 4 * SECOND);
    println!(
        "path change: ERLE {before:.1} dB before, {just_after:.1} dB in the first 0.5 s after, {within:.1} dB 2.5-3 s after, {then:.1} dB the second after"
    );
    assert!(before >= 20.0, "ERLE before the change {before:.1} dB");
    assert!(just_after < 10.0, "the change is felt: {just_after:.1} dB");
    assert!(within >= 15.0, "ERLE 3 s after the change {within:.1} dB");
    assert!(then >= 15.0, "ERLE later {then:.1} dB");
}

#[test]
fn silent_far_end_passes_the_microphone_through() {
    // From the start: nothing learned, nothing taken away.
    let local = talker(7, 150.0, 1500.0, 2000.0, 2 * SECOND);
    let scene = Scene::new(vec![0.0; 2 * SECOND], &[(0, first_room())], &local);
    let mut aec = EchoCanceller::new(TAIL_MS);
    assert_eq!(scene.cancel(&mut aec), scene.near);
    assert_eq!(aec.erle_db(), 0.0);

    // After 4 s of echo learned, 2 s of the visitor alone: once the last
    // far-end sample has left the tail the output is the microphone, to
    // the sample.
    let mut far = far(4);
    far.extend(vec![0.0; 2 * SECOND]);
    let mut local = vec![0.0; 4 * SECOND];
    local.extend(talker(7, 150.0, 1500.0, 2000.0, 2 * SECOND));
    let scene = Scene::new(far, &[(0, first_room())], &local);
    let mut aec = EchoCanceller::new(TAIL_MS);
    let out = scene.cancel(&mut aec);
    let erle = scene.erle(&out, 3 * SECOND, 4 * SECOND);
    println!("silent far end: ERLE {erle:.1} dB over the second before the silence");
    assert!(erle >= 20.0, "ERLE {erle:.1} dB");
    let quiet = 4 * SECOND + TAIL;
    assert_eq!(out[quiet..], scene.near[quiet..]);
}

#[test]
fn odd_lengths_and_inputs_do_not_panic() {
    let scene = Scene::new(far(5), &[(0, first_room())], &[]);
    let mut aec = EchoCanceller::new(TAIL_MS);
    let learned = 4 * SECOND;
    let mut out = vec![0; learned];
    let chunks = scene.far[..learned].chunks(BLOCK);
    for ((far, near), out) in chunks
        .zip(scene.near.chunks(BLOCK))
        .zip(out.chunks_mut(BLOCK))
    {
        aec.process(far, near, out);
    }

    // A far end shorter than the microphone's block, in the middle of
    // speech: the samples both have are cancelled, the rest is the
    // microphone's.
    let at = (learned..scene.far.len() - BLOCK)
        .step_by(BLOCK)
        .max_by(|&a, &b| {
            power(&scene.echo[a..a + BLOCK]).total_cmp(&power(&scene.echo[b..b + BLOCK]))
        })
        .unwrap_or(learned);
    // Feed up to `at` first, so the history stays in step.
    for n in (learned..at).step_by(BLOCK) {
        let mut out = [0; BLOCK];
        aec.process(
            &scene.far[n..n + BLOCK],
            &scene.near[n..n + BLOCK],
            &mut out,
        );
    }
    let mut out = [1; BLOCK];
    aec.process(
        &scene.far[at..at + 100],
        &scene.near[at..at + BLOCK],
        &mut out,
    );
    assert_eq!(out[100..], scene.near[at + 100..at + BLOCK]);
    let near: Vec<f64> = scene.near[at..at + 100]
        .iter()
        .map(|&v| f64::from(v))
        .collect();
    let done: Vec<f64> = out[..100].iter().map(|&v| f64::from(v)).collect();
    let erle = db(power(&near) / power(&done));
    println!("odd lengths: the 100 samples of a short block cancelled by {erle:.1} dB");
    assert!(erle >= 15.0, "cancelled by {erle:.1} dB");

    // Every other mismatch: the microphone where the far end is missing,
    // zeros where the microphone is.
    let mut out = [1; 8];
    aec.process(&[5; 3], &[7; 5], &mut out);
    assert_eq!(out[3..], [7, 7, 0, 0, 0]);
    let mut out = [1; 2];
    aec.process(&[5; 3], &[7; 5], &mut out);
    aec.process(&[], &[], &mut []);
    aec.process(&[1; 10], &[], &mut out);
    assert_eq!(out, [0, 0]);
    aec.process(&[], &[3; 2], &mut out);
    assert_eq!(out, [3, 3]);

    // Full-scale garbage in blocks of any length, then silence from the
    // far end: the filters are still numbers, the microphone passes.
    let mut rng = Rng(5);
    for _ in 0..200 {
        let len = (rng.next() % 400) as usize;
        let far: Vec<i16> = (0..len).map(|_| rng.next() as i16).collect();
        let near: Vec<i16> = (0..len).map(|_| rng.next() as i16).collect();
        let mut out = vec![0; len];
        aec.process(&far, &near, &mut out);
    }
    for _ in 0..2 {
        let near: Vec<i16> = (0..SECOND).map(|_| rng.next() as i16).collect();
        let mut out = vec![0; SECOND];
        aec.process(&vec![0; SECOND], &near, &mut out);
        assert_eq!(out[TAIL..], near[TAIL..]);
    }
    assert!(aec.erle_db().is_finite());

    // Tails out of range are clamped, not refused.
    for tail in [0, 1, u32::MAX] {
        let mut aec = EchoCanceller::new(tail);
        let mut out = [0; 3];
        aec.process(&[i16::MIN, i16::MAX, 0], &[i16::MAX, i16::MIN, 1], &mut out);
        assert!(aec.erle_db().is_finite());
    }
}

/// The cost, for the module's documentation: not a test of speed (the
/// figure depends on the machine), so ignored; run it with
/// `cargo test --release -p media aec::tests::speed -- --ignored --nocapture`.
#[test]
#[ignore]
// A measure of speed is a reading of the clock; it decides nothing.
#[allow(clippy::disallowed_methods)]
fn speed() {
    let seconds = 60;
    let mut local = vec![0.0; 30 * SECOND];
    local.extend(talker(7, 150.0, 1500.0, 2000.0, 30 * SECOND));
    let scene = Scene::new(far(seconds), &[(0, first_room())], &local);
    let mut aec = EchoCanceller::new(TAIL_MS);
    let start = std::time::Instant::now();
    let out = scene.cancel(&mut aec);
    let took = start.elapsed();
    println!(
        "{seconds} s of audio with a {TAIL_MS} ms tail in {took:?}: {:.2} % of one core (ERLE {:.1} dB over 20-30 s)",
        took.as_secs_f64() / seconds as f64 * 100.0,
        scene.erle(&out, 20 * SECOND, 30 * SECOND)
    );
}
