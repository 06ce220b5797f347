//! A cheap structural check of an ONNX file before rten parses it.
//!
//! rten-onnx 0.27's varint reader never returns on a run of ten or more bytes with the
//! continuation bit set where it expects a varint (`read_varint`: once `index` reaches
//! `MAX_VARINT_LEN` it consumes nothing and loops), so a garbage file, say 64 bytes of
//! `0xff`, would hang the loader. This walks the protobuf framing of the model, its graph and
//! the graph's nodes, initializers and value infos, and refuses the file where a varint is
//! malformed, a wire type does not exist or a length runs past its message: rten then sees
//! only files whose framing is sound at the levels a corrupt or wrong file first breaks.
//! (Until the reader is fixed upstream, a model corrupted deeper inside can still hang it; a
//! browser runs the engine in a worker it can terminate.)

/// ONNX field numbers that hold messages, per level: `ModelProto.graph` = 7; inside the graph
/// `node` = 1, `initializer` = 5, `input` = 11, `output` = 12, `value_info` = 13.
const MODEL_MESSAGES: &[u64] = &[7];
const GRAPH_MESSAGES: &[u64] = &[1, 5, 11, 12, 13];

/// What is wrong and where; the caller makes it a `ModelError::Malformed`.
fn malformed(what: &str, at: usize) -> String {
    format!("{what} at byte {at}")
}

fn varint(bytes: &[u8], pos: &mut usize, base: usize) -> Result<u64, String> {
    let mut value = 0u64;
    for i in 0..10 {
        let Some(&b) = bytes.get(*pos) else {
            return Err(malformed("truncated varint", base + *pos));
        };
        *pos += 1;
        value |= u64::from(b & 0x7f) << (7 * i);
        if b < 0x80 {
            return Ok(value);
        }
    }
    Err(malformed("varint longer than ten bytes", base + *pos))
}

/// Walks one message's fields; `nested(field)` says which hold messages to walk too.
fn walk(
    bytes: &[u8],
    base: usize,
    depth: usize,
    nested: &dyn Fn(usize, u64) -> bool,
) -> Result<(), String> {
    let mut pos = 0;
    while pos < bytes.len() {
        let tag = varint(bytes, &mut pos, base)?;
        let (field, wire) = (tag >> 3, tag & 7);
        if field == 0 {
            return Err(malformed("field number 0", base + pos));
        }
        let skip = match wire {
            0 => {
                varint(bytes, &mut pos, base)?;
                0
            }
            1 => 8,
            2 => {
                let len = varint(bytes, &mut pos, base)?;
                let len = usize::try_from(len)
                    .ok()
                    .filter(|&len| len <= bytes.len() - pos)
                    .ok_or_else(|| malformed("length past the end", base + pos))?;
                if nested(depth, field) {
                    walk(&bytes[pos..pos + len], base + pos, depth + 1, nested)?;
                }
                len
            }
            5 => 4,
            _ => return Err(malformed("invalid wire type", base + pos)),
        };
        if skip > bytes.len() - pos {
            return Err(malformed("fixed-size field past the end", base + pos));
        }
        pos += skip;
    }
    Ok(())
}

/// `Ok` if the model's top levels are well-framed protobuf (see the module docs).
pub(crate) fn check(bytes: &[u8]) -> Result<(), String> {
    walk(bytes, 0, 0, &|depth, field| match depth {
        0 => MODEL_MESSAGES.contains(&field),
        1 => GRAPH_MESSAGES.contains(&field),
        _ => false,
    })
}
