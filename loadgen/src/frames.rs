//! The published JPEGs: a moving, textured 1280×720 scene at about 60 KB a frame, each with
//! room for a stamp (sequence number and send time) that the publisher fills in per send.

/// The comment segment each published JPEG starts with: marker, length 18, then the
/// sequence number and the send time (ns since the loader's epoch), both big-endian u64.
pub const STAMP_AT: usize = 6;
pub const STAMP_LEN: usize = 16;
/// Where the stamp ends: past it, a viewer needs none of the JPEG.
pub const STAMP_END: usize = STAMP_AT + STAMP_LEN;

/// Writes the stamp into a frame from [`make_frames`].
pub fn stamp(frame: &mut [u8], seq: u64, sent_ns: u64) {
    frame[STAMP_AT..STAMP_AT + 8].copy_from_slice(&seq.to_be_bytes());
    frame[STAMP_AT + 8..STAMP_END].copy_from_slice(&sent_ns.to_be_bytes());
}

/// The send time in a stamp.
pub fn sent_ns(stamp: &[u8; STAMP_LEN]) -> u64 {
    u64::from_be_bytes(stamp[8..].try_into().expect("8 bytes"))
}

/// Real JPEGs of a moving, textured scene, at the quality that makes them about 60 KB.
pub fn make_frames(count: u32) -> Vec<Vec<u8>> {
    let (w, h) = (1280u32, 720u32);
    let scene = |t: u32| -> Vec<u8> {
        let mut rgb = Vec::with_capacity((w * h * 3) as usize);
        let mut noise = 0x9E37_79B9u32 ^ t;
        for y in 0..h {
            for x in 0..w {
                noise ^= noise << 13;
                noise ^= noise >> 17;
                noise ^= noise << 5;
                let n = (noise & 0x0F) as f32;
                let fx = x as f32 + t as f32 * 8.0;
                let fy = y as f32;
                let r = 128.0 + 90.0 * (fx * 0.020).sin() * (fy * 0.015).cos() + n;
                let g = 128.0 + 90.0 * ((fx + fy) * 0.010).sin() + n;
                let b = 128.0 + 90.0 * (((fx - 640.0).hypot(fy - 360.0)) * 0.030).cos() + n;
                rgb.extend([r as u8, g as u8, b as u8]);
            }
        }
        rgb
    };
    let encode = |rgb: &[u8], q: u8| testkit::jpeg::encode_rgb(rgb, w, h, q);
    // Pick the quality whose first frame is closest to 60 KB.
    let first = scene(0);
    let (mut lo, mut hi) = (10u8, 95u8);
    while lo < hi {
        let mid = u8::midpoint(lo, hi);
        if encode(&first, mid).len() < 60_000 {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    (0..count)
        .map(|t| {
            let jpeg = encode(&scene(t), lo);
            // SOI, the stamp segment, then the rest of the encoder's output.
            let mut stamped = vec![0xFF, 0xD8, 0xFF, 0xFE, 0x00, 0x12];
            stamped.extend([0u8; STAMP_LEN]);
            stamped.extend_from_slice(&jpeg[2..]);
            stamped
        })
        .collect()
}
