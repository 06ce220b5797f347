//! `server::jpeg::inspect`, the check every published binary frame goes through: it never
//! panics, what it accepts is one JPEG (SOI … EOI) with non-zero dimensions within the limit,
//! and the limit only ever decides between `Ok` and `TooLarge`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use server::jpeg::{JpegError, inspect};

/// The server's default `max_frame_dim`.
const MAX_DIM: u32 = 4096;

fuzz_target!(|data: &[u8]| {
    let limited = inspect(data, MAX_DIM);
    if let Ok(dims) = limited {
        assert!((1..=MAX_DIM).contains(&dims.width), "{dims:?}");
        assert!((1..=MAX_DIM).contains(&dims.height), "{dims:?}");
        assert!(data.starts_with(&[0xFF, 0xD8]) && data.ends_with(&[0xFF, 0xD9]));
    }
    if let Err(err) = &limited {
        // The message is what the publisher's close frame carries.
        assert!(!err.to_string().is_empty());
    }

    // Without a limit: the same answer, except where the dimensions are over the limit.
    match inspect(data, u32::MAX) {
        Ok(dims) => {
            assert!(dims.width >= 1 && dims.height >= 1, "{dims:?}");
            assert!(dims.width <= u32::from(u16::MAX) && dims.height <= u32::from(u16::MAX));
            let expected = if dims.width <= MAX_DIM && dims.height <= MAX_DIM {
                Ok(dims)
            } else {
                Err(JpegError::TooLarge {
                    width: dims.width,
                    height: dims.height,
                    max: MAX_DIM,
                })
            };
            assert_eq!(limited, expected);
        }
        Err(err) => {
            assert!(!matches!(err, JpegError::TooLarge { .. }), "{err:?}");
            assert_eq!(limited, Err(err));
        }
    }

    // A zero limit accepts nothing.
    assert!(inspect(data, 0).is_err());
});
