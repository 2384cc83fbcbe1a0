//! Snapshots: a JPEG of a source's picture, made in-process from a key
//! frame (openh264 decodes, jpeg-encoder encodes). No external program.

use openh264::{decoder::Decoder, formats::YUVSource};

/// Decodes one key frame (Annex B, SPS/PPS included) to RGB:
/// (width, height, pixels).
pub fn decode_rgb(annex_b: &[u8]) -> Result<(usize, usize, Vec<u8>), String> {
    let mut decoder = Decoder::new().map_err(|e| format!("H.264 decoder: {e}"))?;
    let yuv = decoder
        .decode(annex_b)
        .map_err(|e| format!("cannot decode the picture: {e}"))?
        .ok_or("the picture is not complete")?;
    let (w, h) = yuv.dimensions();
    let mut rgb = vec![0u8; w * h * 3];
    yuv.write_rgb8(&mut rgb);
    Ok((w, h, rgb))
}

/// The key frame as a JPEG (quality 85).
pub fn jpeg(annex_b: &[u8]) -> Result<Vec<u8>, String> {
    let (w, h, rgb) = decode_rgb(annex_b)?;
    let (w16, h16) = (
        u16::try_from(w).map_err(|_| "picture too wide")?,
        u16::try_from(h).map_err(|_| "picture too high")?,
    );
    let mut out = Vec::with_capacity(w * h / 4);
    jpeg_encoder::Encoder::new(&mut out, 85)
        .encode(&rgb, w16, h16, jpeg_encoder::ColorType::Rgb)
        .map_err(|e| format!("JPEG: {e}"))?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn garbage_is_an_error_not_a_crash() {
        assert!(jpeg(&[0, 0, 0, 1, 0x65, 1, 2, 3]).is_err());
        assert!(jpeg(&[]).is_err());
    }
}
