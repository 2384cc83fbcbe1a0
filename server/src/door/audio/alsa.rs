//! ALSA PCM devices through libasound, loaded when first asked for
//! (`dlopen`): the binary runs and builds without ALSA's headers, and a
//! board without libasound only refuses `--audio-in` / `--audio-out`.
//! Blocking calls: each device is driven from a thread of its own.
//!
//! Only what the door needs: one channel of signed 16-bit samples at a
//! given rate, interleaved reads and writes, recovery from over- and
//! underruns. ALSA converts and resamples (`plug`) for devices that do
//! not take that format.

#![allow(unsafe_code)] // dlopen/dlsym of libasound and its C calls, nowhere else

use std::{
    ffi::{c_char, c_int, c_long, c_uint, c_ulong, c_void, CStr, CString},
    sync::OnceLock,
};

/// `SND_PCM_STREAM_PLAYBACK` / `_CAPTURE`.
const PLAYBACK: c_int = 0;
const CAPTURE: c_int = 1;
/// `SND_PCM_FORMAT_S16_LE`.
const S16_LE: c_int = 2;
/// `SND_PCM_ACCESS_RW_INTERLEAVED`.
const RW_INTERLEAVED: c_int = 3;

type Open = unsafe extern "C" fn(*mut *mut c_void, *const c_char, c_int, c_int) -> c_int;
type SetParams =
    unsafe extern "C" fn(*mut c_void, c_int, c_int, c_uint, c_uint, c_int, c_uint) -> c_int;
type Transfer = unsafe extern "C" fn(*mut c_void, *mut c_void, c_ulong) -> c_long;
type TransferConst = unsafe extern "C" fn(*mut c_void, *const c_void, c_ulong) -> c_long;
type Recover = unsafe extern "C" fn(*mut c_void, c_int, c_int) -> c_int;
type Close = unsafe extern "C" fn(*mut c_void) -> c_int;
type StrError = unsafe extern "C" fn(c_int) -> *const c_char;

/// libasound's entry points, resolved once.
struct Lib {
    open: Open,
    set_params: SetParams,
    readi: Transfer,
    writei: TransferConst,
    recover: Recover,
    close: Close,
    strerror: StrError,
}

fn lib() -> Result<&'static Lib, String> {
    static LIB: OnceLock<Result<Lib, String>> = OnceLock::new();
    LIB.get_or_init(load).as_ref().map_err(Clone::clone)
}

fn load() -> Result<Lib, String> {
    let name = c"libasound.so.2";
    // SAFETY: a plain dlopen of a system library by name; the handle is
    // kept for the life of the process (never dlclosed).
    let handle = unsafe { libc::dlopen(name.as_ptr(), libc::RTLD_NOW | libc::RTLD_LOCAL) };
    if handle.is_null() {
        return Err("libasound.so.2 (ALSA) is not installed: apt install libasound2".into());
    }
    let sym = |name: &CStr| {
        // SAFETY: dlsym on the handle opened above.
        let p = unsafe { libc::dlsym(handle, name.as_ptr()) };
        if p.is_null() {
            Err(format!("libasound has no {}", name.to_string_lossy()))
        } else {
            Ok(p)
        }
    };
    // SAFETY: each symbol is cast to the type of its C declaration in
    // <alsa/pcm.h> / <alsa/error.h> (alsa-lib 1.x, a stable ABI).
    unsafe {
        Ok(Lib {
            open: std::mem::transmute::<*mut c_void, Open>(sym(c"snd_pcm_open")?),
            set_params: std::mem::transmute::<*mut c_void, SetParams>(sym(c"snd_pcm_set_params")?),
            readi: std::mem::transmute::<*mut c_void, Transfer>(sym(c"snd_pcm_readi")?),
            writei: std::mem::transmute::<*mut c_void, TransferConst>(sym(c"snd_pcm_writei")?),
            recover: std::mem::transmute::<*mut c_void, Recover>(sym(c"snd_pcm_recover")?),
            close: std::mem::transmute::<*mut c_void, Close>(sym(c"snd_pcm_close")?),
            strerror: std::mem::transmute::<*mut c_void, StrError>(sym(c"snd_strerror")?),
        })
    }
}

impl Lib {
    fn error(&self, code: c_int) -> String {
        // SAFETY: snd_strerror returns a static string for any code.
        let s = unsafe { (self.strerror)(code) };
        if s.is_null() {
            return format!("ALSA error {code}");
        }
        // SAFETY: non-null, NUL-terminated, static.
        unsafe { CStr::from_ptr(s) }.to_string_lossy().into_owned()
    }
}

/// An open PCM device: mono, S16, at the rate asked for.
pub struct Pcm {
    lib: &'static Lib,
    handle: *mut c_void,
    name: String,
}

// SAFETY: an ALSA PCM handle may move between threads; it is used by one
// thread at a time (`&mut self`).
unsafe impl Send for Pcm {}

impl Pcm {
    /// Opens `name` (an ALSA device name: `default`, `plughw:1,0`, a PCM
    /// of the ALSA configuration) for capture or playback, mono S16 at
    /// `rate` Hz, with about `latency_ms` of buffer.
    pub fn open(name: &str, capture: bool, rate: u32, latency_ms: u32) -> Result<Pcm, String> {
        let lib = lib()?;
        let c_name = CString::new(name).map_err(|_| format!("bad ALSA device name {name:?}"))?;
        let mut handle = std::ptr::null_mut();
        let stream = if capture { CAPTURE } else { PLAYBACK };
        // SAFETY: handle is an out pointer; c_name lives across the call.
        let r = unsafe { (lib.open)(&mut handle, c_name.as_ptr(), stream, 0) };
        if r < 0 || handle.is_null() {
            return Err(format!("ALSA device {name}: {}", lib.error(r)));
        }
        let pcm = Pcm {
            lib,
            handle,
            name: name.to_string(),
        };
        // SAFETY: an open handle; soft_resample 1 lets ALSA convert.
        let r = unsafe {
            (lib.set_params)(
                handle,
                S16_LE,
                RW_INTERLEAVED,
                1,
                rate,
                1,
                latency_ms.saturating_mul(1000),
            )
        };
        if r < 0 {
            return Err(format!(
                "ALSA device {name}: mono 16-bit at {rate} Hz: {}",
                lib.error(r)
            ));
        }
        Ok(pcm)
    }

    /// Fills `buf` with captured samples (blocking); an overrun is
    /// recovered from and reading goes on.
    pub fn read(&mut self, buf: &mut [i16]) -> Result<(), String> {
        let mut done = 0;
        while done < buf.len() {
            let rest = &mut buf[done..];
            // SAFETY: rest is a valid buffer of rest.len() mono frames.
            let n = unsafe {
                (self.lib.readi)(self.handle, rest.as_mut_ptr().cast(), rest.len() as c_ulong)
            };
            done += self.advance(n)?;
        }
        Ok(())
    }

    /// Plays `buf` (blocking while the device's buffer is full); an
    /// underrun is recovered from.
    pub fn write(&mut self, buf: &[i16]) -> Result<(), String> {
        let mut done = 0;
        while done < buf.len() {
            let rest = &buf[done..];
            // SAFETY: rest is a valid buffer of rest.len() mono frames.
            let n = unsafe {
                (self.lib.writei)(self.handle, rest.as_ptr().cast(), rest.len() as c_ulong)
            };
            done += self.advance(n)?;
        }
        Ok(())
    }

    /// Frames moved by a read or write, recovering from an xrun or a
    /// suspend (0 frames then); other errors end the device.
    fn advance(&mut self, n: c_long) -> Result<usize, String> {
        if n >= 0 {
            return Ok(n as usize);
        }
        let code = c_int::try_from(n).unwrap_or(c_int::MIN);
        // SAFETY: an open handle; silent 1 keeps alsa-lib from printing.
        let r = unsafe { (self.lib.recover)(self.handle, code, 1) };
        if r < 0 {
            return Err(format!(
                "ALSA device {}: {}",
                self.name,
                self.lib.error(code)
            ));
        }
        Ok(0)
    }
}

impl Drop for Pcm {
    fn drop(&mut self) {
        // SAFETY: the handle is open and closed once, here.
        unsafe {
            (self.lib.close)(self.handle);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_device_is_a_clear_error() {
        let Err(why) = Pcm::open("vto-no-such-device", true, 8000, 100) else {
            panic!("a device that does not exist opened");
        };
        assert!(
            why.contains("vto-no-such-device") || why.contains("libasound"),
            "{why}"
        );
        assert!(Pcm::open("bad\0name", false, 8000, 100).is_err());
    }

    #[test]
    fn the_file_plugin_gets_what_is_played() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("out.raw");
        let name = format!("file:'{}',raw", path.display());
        // libasound2 is installed by .ci/lib.sh for the tests.
        let mut pcm = Pcm::open(&name, false, 8000, 100).unwrap_or_else(|why| panic!("{why}"));
        let tone: Vec<i16> = (0..1600)
            .map(|i| if i % 8 < 4 { 8000 } else { -8000 })
            .collect();
        pcm.write(&tone).expect("write");
        drop(pcm);
        let bytes = std::fs::read(&path).expect("the file plugin's file");
        let samples: Vec<i16> = bytes
            .chunks_exact(2)
            .map(|b| i16::from_le_bytes([b[0], b[1]]))
            .collect();
        assert_eq!(samples, tone);
    }
}
