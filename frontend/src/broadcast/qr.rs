//! The share link as a QR code, rendered to SVG in Rust so a phone can scan it off the screen.

use qrcode::{EcLevel, QrCode, render::svg};

/// An SVG document for `text`, or `None` if it is too long for a QR code.
/// Medium error correction: a photographed screen has glare and moiré.
pub fn svg(text: &str) -> Option<String> {
    let code = QrCode::with_error_correction_level(text.as_bytes(), EcLevel::M).ok()?;
    Some(
        code.render::<svg::Color<'_>>()
            .min_dimensions(176, 176)
            .dark_color(svg::Color("#0f172a"))
            .light_color(svg::Color("#ffffff"))
            .quiet_zone(true)
            .build(),
    )
}

/// The module grid (true = dark) without quiet zone; what [`svg`] draws.
pub fn modules(text: &str) -> Option<(usize, Vec<bool>)> {
    let code = QrCode::with_error_correction_level(text.as_bytes(), EcLevel::M).ok()?;
    let width = code.width();
    let dark = code
        .to_colors()
        .into_iter()
        .map(|c| c == qrcode::Color::Dark)
        .collect();
    Some((width, dark))
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_bindgen_test::wasm_bindgen_test;

    const LINK: &str = "https://192.168.1.20:8443/watch/3q2xN0m9Qy6d7vB1kLhPzA";

    #[wasm_bindgen_test]
    fn renders_an_svg_document() {
        let svg = svg(LINK).expect("a short link fits");
        assert!(svg.starts_with("<?xml") || svg.starts_with("<svg"));
        assert!(svg.contains("<svg") && svg.ends_with("</svg>"));
        assert!(svg.contains("#0f172a"));
    }

    #[wasm_bindgen_test]
    fn module_grid_has_finder_patterns() {
        let (w, dark) = modules(LINK).expect("a short link fits");
        assert_eq!(dark.len(), w * w);
        // Version 3 (29 modules) or larger for ~55 bytes at level M.
        assert!(w >= 29 && (w - 17) % 4 == 0, "{w}");
        // Each finder pattern's outer ring is dark, its second ring light.
        for (ox, oy) in [(0, 0), (w - 7, 0), (0, w - 7)] {
            assert!(dark[oy * w + ox] && dark[(oy + 6) * w + ox + 6]);
            assert!(!dark[(oy + 1) * w + ox + 1] && dark[(oy + 3) * w + ox + 3]);
        }
    }

    #[wasm_bindgen_test]
    fn too_long_is_none() {
        assert!(svg(&"x".repeat(5000)).is_none());
    }
}
