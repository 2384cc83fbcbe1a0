//! The built-in camera's image adjustments (manual 4.2, Conditions and
//! Picture), applied to each YUV 4:2:0 picture before it is encoded. Pure:
//! the picture and the settings in, the adjusted picture out. Whether it is
//! night is a parameter (the device's local time decides it for the
//! Automatic modes).
//!
//! What each setting does here, as a real camera would do it to its sensor's
//! picture:
//! - Gain multiplies the light (0: half, 50: as is, 100: double);
//! - Scene Mode: Sunny dims a little and warms, Night brightens the shadows;
//!   Automatic is Sunny by day and Night at night; Disabled does nothing;
//! - BackLight: Backlight lifts dark areas, Wide dynamic lifts darks and
//!   compresses highlights, Inhibition compresses highlights only;
//! - Gamma bends the tone curve (larger: brighter), Contrast stretches it
//!   around mid grey, Brightness shifts it;
//! - Hue turns the colours (50: as is, ±180° at the ends), Saturation scales
//!   them (0: grey, 100: double);
//! - Day/Night: Black White drops the colour; Automatic does so at night;
//! - Mirror swaps left and right, Flip turns the picture upside down.

use app::model::video::{BacklightMode, DayNightMode, PictureSettings, SceneMode};

/// Night, for the Automatic modes: from 19:00 to 07:00 local time.
pub fn is_night(local_ms: i64) -> bool {
    let hour = local_ms.rem_euclid(86_400_000) / 3_600_000;
    !(7..19).contains(&hour)
}

/// Whether the settings leave the picture as it is (nothing to do).
pub fn is_neutral(p: &PictureSettings, night: bool) -> bool {
    *p == PictureSettings {
        scene: p.scene,
        day_night: p.day_night,
        ..PictureSettings::default()
    } && matches!(p.scene, SceneMode::Disabled)
        && p.backlight == BacklightMode::Disabled
        && !black_white(p, night)
}

fn black_white(p: &PictureSettings, night: bool) -> bool {
    match p.day_night {
        DayNightMode::Automatic => night,
        DayNightMode::Colorful => false,
        DayNightMode::BlackWhite => true,
    }
}

fn scene(p: &PictureSettings, night: bool) -> SceneMode {
    match p.scene {
        SceneMode::Automatic if night => SceneMode::Night,
        SceneMode::Automatic => SceneMode::Sunny,
        other => other,
    }
}

fn level(v: u8) -> f32 {
    (f32::from(v) - 50.0) / 50.0
}

/// The luma curve: input Y -> output Y, for all 256 values.
fn luma_table(p: &PictureSettings, night: bool) -> [u8; 256] {
    let gain = 2f32.powf(level(p.gain));
    let gamma = 2f32.powf(-level(p.gamma));
    let contrast = f32::from(p.contrast) / 50.0;
    let brightness = level(p.brightness) / 2.0;
    let scene = scene(p, night);
    let mut table = [0u8; 256];
    for (y, out) in table.iter_mut().enumerate() {
        let mut x = (y as f32 / 255.0) * gain;
        x = match scene {
            SceneMode::Sunny => x * 0.92,
            SceneMode::Night => x.clamp(0.0, 1.0).powf(0.75),
            _ => x,
        };
        x = x.clamp(0.0, 1.0);
        x = match p.backlight {
            BacklightMode::Backlight => x.powf(0.7),
            BacklightMode::WideDynamic => {
                let lifted = x.powf(0.8);
                if lifted > 0.6 {
                    0.6 + (lifted - 0.6) * 0.6
                } else {
                    lifted
                }
            }
            BacklightMode::Inhibition if x > 0.7 => 0.7 + (x - 0.7) * 0.3,
            _ => x,
        };
        x = x.powf(gamma);
        x = 0.5 + (x - 0.5) * contrast + brightness;
        *out = (x * 255.0).round().clamp(16.0, 235.0) as u8;
    }
    table
}

/// Adjusts a YUV 4:2:0 picture of `w` x `h` (even) in place.
pub fn adjust(yuv: &mut [u8], w: usize, h: usize, p: &PictureSettings, night: bool) {
    if yuv.len() < w * h * 3 / 2 || is_neutral(p, night) {
        return;
    }
    let (y_plane, uv) = yuv.split_at_mut(w * h);
    let (u_plane, v_plane) = uv.split_at_mut(w * h / 4);
    let table = luma_table(p, night);
    for y in y_plane.iter_mut() {
        *y = table[usize::from(*y)];
    }
    let grey = black_white(p, night);
    let angle = level(p.hue) * std::f32::consts::PI;
    let (sin, cos) = angle.sin_cos();
    let saturation = f32::from(p.saturation) / 50.0;
    let warm = if scene(p, night) == SceneMode::Sunny {
        6.0
    } else {
        0.0
    };
    for (u, v) in u_plane.iter_mut().zip(v_plane.iter_mut()) {
        if grey {
            (*u, *v) = (128, 128);
            continue;
        }
        let (cu, cv) = (f32::from(*u) - 128.0, f32::from(*v) - 128.0);
        let ru = (cu * cos - cv * sin) * saturation - warm;
        let rv = (cu * sin + cv * cos) * saturation + warm;
        *u = (ru + 128.0).round().clamp(16.0, 240.0) as u8;
        *v = (rv + 128.0).round().clamp(16.0, 240.0) as u8;
    }
    if p.mirror {
        mirror(y_plane, w);
        mirror(u_plane, w / 2);
        mirror(v_plane, w / 2);
    }
    if p.flip {
        flip(y_plane, w);
        flip(u_plane, w / 2);
        flip(v_plane, w / 2);
    }
}

fn mirror(plane: &mut [u8], w: usize) {
    for row in plane.chunks_exact_mut(w) {
        row.reverse();
    }
}

fn flip(plane: &mut [u8], w: usize) {
    let rows = plane.len() / w;
    for r in 0..rows / 2 {
        let (top, bottom) = plane.split_at_mut((rows - 1 - r) * w);
        top[r * w..(r + 1) * w].swap_with_slice(&mut bottom[..w]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const W: usize = 8;
    const H: usize = 4;

    /// A picture whose Y rises left to right and top to bottom, with colour.
    fn picture() -> Vec<u8> {
        let mut buf = vec![0u8; W * H * 3 / 2];
        for (i, y) in buf[..W * H].iter_mut().enumerate() {
            *y = 40 + (i as u8) * 5;
        }
        for (i, c) in buf[W * H..].iter_mut().enumerate() {
            *c = if i % 2 == 0 { 90 } else { 170 };
        }
        buf
    }

    fn off() -> PictureSettings {
        PictureSettings {
            scene: SceneMode::Disabled,
            ..PictureSettings::default()
        }
    }

    fn adjusted(p: PictureSettings, night: bool) -> Vec<u8> {
        let mut buf = picture();
        adjust(&mut buf, W, H, &p, night);
        buf
    }

    fn mean_y(buf: &[u8]) -> f32 {
        buf[..W * H].iter().map(|&y| f32::from(y)).sum::<f32>() / (W * H) as f32
    }

    #[test]
    fn neutral_settings_leave_the_picture_alone() {
        assert!(is_neutral(&off(), false));
        assert_eq!(adjusted(off(), false), picture());
        // Automatic Day/Night drops the colour at night: not neutral then.
        assert!(!is_neutral(&off(), true));
        assert_ne!(adjusted(off(), true), picture());
    }

    #[test]
    fn brightness_contrast_gamma_and_gain_move_the_tones() {
        let base = mean_y(&adjusted(off(), false));
        for (p, brighter) in [
            (
                PictureSettings {
                    brightness: 80,
                    ..off()
                },
                true,
            ),
            (
                PictureSettings {
                    brightness: 20,
                    ..off()
                },
                false,
            ),
            (PictureSettings { gamma: 90, ..off() }, true),
            (PictureSettings { gamma: 10, ..off() }, false),
            (PictureSettings { gain: 90, ..off() }, true),
            (PictureSettings { gain: 10, ..off() }, false),
        ] {
            let m = mean_y(&adjusted(p, false));
            assert_eq!(m > base, brighter, "{p:?}: {m} vs {base}");
        }
        // No contrast: one flat grey.
        let flat = adjusted(
            PictureSettings {
                contrast: 0,
                ..off()
            },
            false,
        );
        assert!(flat[..W * H].iter().all(|&y| y == flat[0]));
    }

    #[test]
    fn saturation_hue_and_black_white_change_the_colour() {
        let grey = adjusted(
            PictureSettings {
                saturation: 0,
                ..off()
            },
            false,
        );
        assert!(grey[W * H..].iter().all(|&c| c == 128));
        let bw = adjusted(
            PictureSettings {
                day_night: DayNightMode::BlackWhite,
                ..off()
            },
            false,
        );
        assert!(bw[W * H..].iter().all(|&c| c == 128));
        assert_eq!(bw[..W * H], picture()[..W * H], "the tones stay");
        // Half a turn of hue swaps the colour to its opposite.
        let turned = adjusted(PictureSettings { hue: 100, ..off() }, false);
        assert_eq!(turned[W * H], 128 + (128 - 90));
        // Automatic: colour by day, none at night.
        let auto = PictureSettings {
            day_night: DayNightMode::Automatic,
            ..off()
        };
        assert_eq!(adjusted(auto, false)[W * H], 90);
        assert_eq!(adjusted(auto, true)[W * H], 128);
    }

    #[test]
    fn scene_and_backlight_modes_differ() {
        let results: Vec<Vec<u8>> = [
            PictureSettings {
                scene: SceneMode::Sunny,
                ..off()
            },
            PictureSettings {
                scene: SceneMode::Night,
                ..off()
            },
            PictureSettings {
                backlight: BacklightMode::Backlight,
                ..off()
            },
            PictureSettings {
                backlight: BacklightMode::WideDynamic,
                ..off()
            },
            PictureSettings {
                backlight: BacklightMode::Inhibition,
                ..off()
            },
            off(),
        ]
        .into_iter()
        .map(|p| adjusted(p, false))
        .collect();
        for (i, a) in results.iter().enumerate() {
            for b in &results[i + 1..] {
                assert_ne!(a, b);
            }
        }
        // Automatic follows the time of day.
        let auto = PictureSettings {
            scene: SceneMode::Automatic,
            ..off()
        };
        assert_eq!(adjusted(auto, false), results[0]);
        let night = PictureSettings {
            scene: SceneMode::Night,
            ..off()
        };
        assert_eq!(adjusted(auto, true), adjusted(night, true));
    }

    #[test]
    fn mirror_and_flip_move_the_pixels() {
        let src = picture();
        let m = adjusted(
            PictureSettings {
                mirror: true,
                ..off()
            },
            false,
        );
        assert_eq!(m[0], src[W - 1]);
        assert_eq!(m[W - 1], src[0]);
        let f = adjusted(
            PictureSettings {
                flip: true,
                ..off()
            },
            false,
        );
        assert_eq!(f[..W], src[(H - 1) * W..H * W]);
        let both = adjusted(
            PictureSettings {
                mirror: true,
                flip: true,
                ..off()
            },
            false,
        );
        assert_eq!(both[0], src[W * H - 1]);
    }

    #[test]
    fn night_is_from_seven_in_the_evening_to_seven_in_the_morning() {
        let hour = |h: i64| h * 3_600_000;
        assert!(is_night(hour(0)));
        assert!(is_night(hour(6) + 3_599_999));
        assert!(!is_night(hour(7)));
        assert!(!is_night(hour(18)));
        assert!(is_night(hour(19)));
        assert!(is_night(-1), "before 1970 too");
    }
}
