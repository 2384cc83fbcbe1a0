//! QR codes as inline SVG, made in-process (no external service sees the
//! reset address or a two-factor secret).

use app::error::ApiError;
use qrcode::{render::svg, EcLevel, QrCode};

pub fn svg(data: &str) -> Result<String, ApiError> {
    let code = QrCode::with_error_correction_level(data.as_bytes(), EcLevel::M)
        .map_err(|e| ApiError::Internal(format!("QR code: {e}")))?;
    let svg = code
        .render::<svg::Color<'_>>()
        .min_dimensions(200, 200)
        .dark_color(svg::Color("#1b2430"))
        .light_color(svg::Color("#ffffff"))
        .quiet_zone(true)
        .build();
    // Inline in HTML: the XML declaration has no place there.
    Ok(match svg.find("<svg") {
        Some(i) => svg[i..].to_string(),
        None => svg,
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn makes_an_svg() {
        let s = super::svg("http://192.168.1.108/reset?step=2").unwrap_or_default();
        assert!(s.starts_with("<svg"), "{}", &s[..40.min(s.len())]);
        assert!(s.contains("</svg>"));
    }
}
