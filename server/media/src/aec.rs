//! An acoustic echo canceller for the door's hands-free audio: the speaker
//! plays the far end (the monitor's voice), the microphone hears the
//! visitor and that speaker's echo, and what goes back to the monitor
//! should be the visitor alone.
//!
//! The echo is modelled as a linear FIR filter over the far end's last
//! `tail_ms` (the bulk delay through the sound card and the air, and the
//! room's reverberation), learned by NLMS (normalized least mean squares)
//! in the time domain: at 8 kHz a 128 ms tail is 1024 taps, a few tens of
//! MFLOPS written as straight loops the compiler vectorizes, and no block
//! latency whatever length the caller's blocks have.
//!
//! Double talk (the visitor speaking while the speaker plays) would make
//! the filter learn the visitor as echo and diverge. The double-talk
//! detector is the two-path method (Ochiai et al., 1977; Speex's MDF has
//! one): a background filter adapts at every sample and is never heard;
//! the foreground filter, whose output is sent, never adapts itself but
//! takes the background's coefficients when they proved, over a 20 ms
//! window, to remove significantly more of the microphone's power than
//! its own: by more than the two outputs' difference could by chance. A
//! local talker is in both residuals and neither filter can remove it;
//! the background, disturbed by it, is the worse one, so while the visitor
//! speaks the foreground is frozen, and a background clearly worse than
//! the foreground is set back to it, so it is not left diverged when the
//! visitor stops. The background is compared as it was at the start of
//! the window (the candidate), on samples it has not learned from: while
//! adapting it fits some of a local talker into its latest outputs and
//! would look better than it is.
//!
//! Why not a detector on levels: Geigel's compares the microphone with the
//! loudest recent far-end sample under an assumed echo loss, and a door's
//! speaker is a few centimetres from its microphone, so the echo can be as
//! loud as the far end and any fixed threshold either freezes always or
//! lets double talk through. Nor one that trusts the filter's own echo
//! estimate (normalized cross-correlation with it): it cannot tell double
//! talk from an echo path that changed (someone stepping up to the door)
//! and would then freeze for good. The background adapts through both, so
//! a changed path is learned again and taken over in a second or two.
//!
//! The background's step is large (fast) while the residual is mostly
//! echo and small when it is mostly the microphone's noise (a step of
//! residual echo over residual, the optimum for NLMS), the noise being the
//! least residual of the last 1.6 s: a noisy street costs less precision.
//!
//! No residual echo suppression (non-linear processing): what the filter
//! leaves is sent as it is, so the visitor is never muted nor gated. The
//! output is the microphone less the foreground's echo estimate, rounded;
//! with a silent far end that estimate is exactly zero and the microphone
//! passes unchanged.
//!
//! Cost with a 128 ms tail: under half a percent of one core (60 s of
//! audio in 0.26 s; per sample three dot products in one pass and the
//! update, 4096 multiply-adds), measured on the build machine (an AMD EPYC
//! at x86-64's default target, SSE2) by the ignored test `speed`: `cargo
//! test --release -p media aec::tests::speed -- --ignored --nocapture`.

/// 8 kHz mono, 16-bit.
pub const RATE: u32 = 8000;

/// The longest tail modelled: a door's echo path is tens of milliseconds;
/// the cap only keeps an absurd `tail_ms` from allocating gigabytes.
pub const MAX_TAIL_MS: u32 = 1000;

/// Samples a millisecond.
const PER_MS: usize = (RATE / 1000) as usize;

/// The background's NLMS step, between these (stable below 2): 1 is
/// NLMS's fastest; the least still learns, slowly, in noise.
const STEP_MAX: f32 = 1.0;
const STEP_MIN: f32 = 0.1;

/// The regularization of NLMS's normalization, as a far-end power per
/// sample (a level of 32, about -60 dBFS): below it the far end is too
/// quiet to learn from, and the step stays bounded as it falls silent.
const QUIET: f32 = 32.0 * 32.0;

/// The comparison's window: 20 ms.
const WINDOW: usize = 160;

/// The noise floor: the least background residual of a window over 8
/// spans of 10 windows (1.6 s, longer than a syllable and a pause), raised
/// by 1.5 because the least of noisy measures lies below their mean.
const FLOOR_SPAN: usize = 10;
const FLOOR_SPANS: usize = 8;
const FLOOR_BIAS: f64 = 1.5;

/// The ERLE meter: 20 windows of 50 ms, the last second.
const METER_WINDOW: usize = 400;
const METER_WINDOWS: usize = 20;

/// The canceller of one call's audio. Feed it every block, in order.
#[derive(Clone, Debug)]
pub struct EchoCanceller {
    taps: usize,
    /// The far end's last `taps` samples, held twice (sample n at n mod
    /// taps and at that plus taps), so that they are always one contiguous
    /// slice, `history[pos..pos + taps]`, oldest first.
    history: Vec<f32>,
    pos: usize,
    /// The sum of squares of that slice, kept exactly in integers (the
    /// samples are integers) so that it never drifts nor goes negative.
    energy: i64,
    /// Coefficients aligned with the history slice: the last multiplies
    /// the newest sample.
    foreground: Vec<f32>,
    background: Vec<f32>,
    /// The background as it was at the start of the current window.
    candidate: Vec<f32>,
    step: f32,
    window: Window,
    /// The comparison smoothed over windows (short and long), with the
    /// variance each would have by chance.
    avg_short: f64,
    avg_long: f64,
    var_short: f64,
    var_long: f64,
    floor: Floor,
    meter: Meter,
}

/// The sums of the current comparison window.
#[derive(Clone, Debug, Default)]
struct Window {
    samples: usize,
    /// The residual energies: the foreground's, the candidate's and the
    /// background's (a priori: before each sample's update).
    fore: f64,
    cand: f64,
    back: f64,
    /// The energy of the difference between the candidate's and the
    /// foreground's outputs.
    diff: f64,
}

impl EchoCanceller {
    /// `tail_ms`: the longest echo path it models (speaker latency +
    /// room), e.g. 128; at least 1, at most [`MAX_TAIL_MS`].
    pub fn new(tail_ms: u32) -> Self {
        let taps = tail_ms.clamp(1, MAX_TAIL_MS) as usize * PER_MS;
        Self {
            taps,
            history: vec![0.0; 2 * taps],
            pos: 0,
            energy: 0,
            foreground: vec![0.0; taps],
            background: vec![0.0; taps],
            candidate: vec![0.0; taps],
            step: STEP_MAX,
            window: Window::default(),
            avg_short: 0.0,
            avg_long: 0.0,
            var_short: 0.0,
            var_long: 0.0,
            floor: Floor::default(),
            meter: Meter::default(),
        }
    }

    /// One block: `far` is what the speaker played, `near` what the
    /// microphone captured over the same time (same length, any length,
    /// typically 160 = 20 ms). Writes the microphone's signal with the echo
    /// removed to `out` (same length).
    ///
    /// Lengths that differ are the caller's error and are survived: the
    /// shortest of the three is processed, the rest of `out` is `near` as
    /// it is (zeros past `near`'s end), and the far end's history moves on
    /// by the processed samples only.
    pub fn process(&mut self, far: &[i16], near: &[i16], out: &mut [i16]) {
        let n = far.len().min(near.len()).min(out.len());
        for ((&x, &d), o) in far.iter().zip(near).zip(out.iter_mut()) {
            *o = self.sample(x, d);
        }
        let rest = out.len().min(near.len());
        if n < rest {
            out[n..rest].copy_from_slice(&near[n..rest]);
        }
        if rest < out.len() {
            out[rest..].fill(0);
        }
    }

    /// Echo return loss enhancement over the last second, in dB (for
    /// logs/tests): the microphone's power over the output's. While the
    /// visitor speaks it reads lower, the visitor being in both; 0 when the
    /// microphone was silent.
    pub fn erle_db(&self) -> f32 {
        self.meter.db()
    }

    fn sample(&mut self, far: i16, near: i16) -> i16 {
        let oldest = self.history[self.pos];
        self.energy += i64::from(far).pow(2) - (oldest as i64).pow(2);
        let x = f32::from(far);
        self.history[self.pos] = x;
        self.history[self.pos + self.taps] = x;
        self.pos = (self.pos + 1) % self.taps;
        let window = &self.history[self.pos..self.pos + self.taps];

        let [fore, cand, back] = dot3(
            [&self.foreground, &self.candidate, &self.background],
            window,
        );
        if !(fore.is_finite() && cand.is_finite() && back.is_finite()) {
            // Cannot happen with a step under 2, but a corrupted filter
            // must not silence the door for the rest of the call.
            self.foreground.fill(0.0);
            self.candidate.fill(0.0);
            self.background.fill(0.0);
            return near;
        }
        let d = f32::from(near);
        let e_fore = d - fore;
        let e_back = d - back;
        if self.energy > 0 {
            let gain = self.step * e_back / (self.energy as f32 + self.taps as f32 * QUIET);
            axpy(&mut self.background, gain, window);
        }

        let w = &mut self.window;
        w.fore += f64::from(e_fore).powi(2);
        w.cand += f64::from(d - cand).powi(2);
        w.back += f64::from(e_back).powi(2);
        w.diff += f64::from(cand - fore).powi(2);
        w.samples += 1;
        if w.samples == WINDOW {
            self.end_window();
        }

        // `as` saturates: a residual past full scale is clipped, as the
        // microphone would have.
        let out = e_fore.round() as i16;
        self.meter.add(near, out);
        out
    }

    /// The foreground takes the candidate if it was significantly better,
    /// or the background is set back to the foreground if the candidate was
    /// significantly worse; the next candidate is the background as it is
    /// now, and its step follows the noise.
    fn end_window(&mut self) {
        let Window {
            fore: sff,
            cand: scc,
            back,
            diff: dcf,
            ..
        } = std::mem::take(&mut self.window);

        // With outputs that differ by δ, the difference of the residual
        // energies is 2<e_fore, δ> - |δ|², whose spread when the candidate
        // is no better is 2·sqrt(sff·dcf/n) for n independent samples in
        // the window: few for a narrow band, but n ≥ 16 keeps it under
        // sqrt(sff·dcf)/2. A candidate is taken past four times that in
        // one window, or past about three and two times it smoothed over
        // a few windows (a gain that builds up slowly): a test passed by
        // chance lets the foreground drift, and double talk, which makes
        // sff large, raises the bar.
        let gain = sff - scc;
        self.avg_short = 0.6 * self.avg_short + 0.4 * gain;
        self.avg_long = 0.85 * self.avg_long + 0.15 * gain;
        self.var_short = 0.36 * self.var_short + 0.16 * sff * dcf;
        self.var_long = 0.7225 * self.var_long + 0.0225 * sff * dcf;
        let signed_sq = |v: f64| v * v.abs();
        let better = signed_sq(gain) > 4.0 * sff * dcf
            || signed_sq(self.avg_short) > 2.0 * self.var_short
            || signed_sq(self.avg_long) > self.var_long;
        let worse = -signed_sq(gain) > 4.0 * sff * dcf
            || -signed_sq(self.avg_short) > 4.0 * self.var_short
            || -signed_sq(self.avg_long) > 4.0 * self.var_long;
        if better {
            self.foreground.copy_from_slice(&self.candidate);
        } else if worse {
            self.background.copy_from_slice(&self.foreground);
        }
        self.candidate.copy_from_slice(&self.background);
        if better || worse {
            self.avg_short = 0.0;
            self.avg_long = 0.0;
            self.var_short = 0.0;
            self.var_long = 0.0;
        }

        let residual = back / WINDOW as f64;
        let noise = self.floor.add(residual);
        self.step = if residual > 0.0 {
            ((1.0 - noise / residual) as f32).clamp(STEP_MIN, STEP_MAX)
        } else {
            STEP_MAX
        };
    }
}

/// The three filters' outputs over one window, in one pass; eight sums
/// each so that the compiler can keep them in vector registers (taps are
/// a multiple of 8).
fn dot3(w: [&[f32]; 3], x: &[f32]) -> [f32; 3] {
    let mut sums = [[0.0f32; 8]; 3];
    for (((a, b), c), x) in w[0]
        .chunks_exact(8)
        .zip(w[1].chunks_exact(8))
        .zip(w[2].chunks_exact(8))
        .zip(x.chunks_exact(8))
    {
        for i in 0..8 {
            sums[0][i] += a[i] * x[i];
            sums[1][i] += b[i] * x[i];
            sums[2][i] += c[i] * x[i];
        }
    }
    sums.map(|s| s.iter().sum())
}

/// w += g·x.
fn axpy(w: &mut [f32], g: f32, x: &[f32]) {
    for (w, x) in w.iter_mut().zip(x) {
        *w += g * x;
    }
}

/// The microphone's noise as the background leaves it: the least residual
/// power of a window over the last spans (minimum statistics).
#[derive(Clone, Debug)]
struct Floor {
    spans: [f64; FLOOR_SPANS],
    current: f64,
    windows: usize,
}

impl Default for Floor {
    fn default() -> Self {
        Self {
            spans: [f64::INFINITY; FLOOR_SPANS],
            current: f64::INFINITY,
            windows: 0,
        }
    }
}

impl Floor {
    /// One window's residual power; the floor, that window included.
    fn add(&mut self, power: f64) -> f64 {
        self.current = self.current.min(power);
        let least = self.spans.iter().fold(self.current, |a, &b| a.min(b));
        self.windows += 1;
        if self.windows == FLOOR_SPAN {
            self.spans.rotate_left(1);
            self.spans[FLOOR_SPANS - 1] = self.current;
            self.current = f64::INFINITY;
            self.windows = 0;
        }
        least * FLOOR_BIAS
    }
}

/// The microphone's and the output's energies over the last second.
#[derive(Clone, Debug, Default)]
struct Meter {
    /// Completed windows: (microphone, output) energies.
    windows: [(u64, u64); METER_WINDOWS],
    next: usize,
    samples: usize,
    near: u64,
    out: u64,
}

impl Meter {
    fn add(&mut self, near: i16, out: i16) {
        self.near += u64::from(near.unsigned_abs()).pow(2);
        self.out += u64::from(out.unsigned_abs()).pow(2);
        self.samples += 1;
        if self.samples == METER_WINDOW {
            self.windows[self.next] = (self.near, self.out);
            self.next = (self.next + 1) % METER_WINDOWS;
            self.samples = 0;
            self.near = 0;
            self.out = 0;
        }
    }

    fn db(&self) -> f32 {
        let (near, out) = self
            .windows
            .iter()
            .fold((0u64, 0u64), |(n, o), &(a, b)| (n + a, o + b));
        if near == 0 {
            return 0.0;
        }
        // A silent output against a sounding microphone reads as the
        // microphone's level over one LSB², not infinity.
        (10.0 * (near as f64 / out.max(1) as f64).log10()) as f32
    }
}

#[cfg(test)]
mod tests;
