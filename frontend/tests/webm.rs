//! The `WebM` patcher: a file shaped like a browser's `MediaRecorder` output (Segment and
//! Clusters of unknown size, no Duration, no Cues) comes out with its sizes known, the
//! Duration, Cues at every keyframe Cluster and a `SeekHead` whose positions are right; bytes
//! it does not understand give `None`, never a panic.

use frontend::media::webm::make_seekable;
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_browser);

fn id(out: &mut Vec<u8>, id: u32) {
    let bytes = id.to_be_bytes();
    let skip = bytes.iter().take_while(|&&b| b == 0).count();
    out.extend_from_slice(&bytes[skip..]);
}

/// A size in the shortest form (1 or 2 bytes are enough here).
fn size(out: &mut Vec<u8>, n: usize) {
    if n < 0x7F {
        out.push(0x80 | n as u8);
    } else {
        out.push(0x40 | (n >> 8) as u8);
        out.push(n as u8);
    }
}

fn element(out: &mut Vec<u8>, i: u32, body: &[u8]) {
    id(out, i);
    size(out, body.len());
    out.extend_from_slice(body);
}

/// An element of unknown size (the 8-byte all-ones form Chrome writes).
fn open_element(out: &mut Vec<u8>, i: u32) {
    id(out, i);
    out.extend_from_slice(&[0x01, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF]);
}

fn simple_block(track: u8, time: i16, key: bool, payload: &[u8]) -> Vec<u8> {
    let mut data = vec![0x80 | track];
    data.extend_from_slice(&time.to_be_bytes());
    data.push(if key { 0x80 } else { 0 });
    data.extend_from_slice(payload);
    let mut out = Vec::new();
    element(&mut out, 0xA3, &data);
    out
}

/// `clusters` of `(timecode, [(relative time, keyframe)])` at 1 ms per timecode unit.
fn recording(clusters: &[(u8, &[(i16, bool)])], known_cluster_sizes: bool) -> Vec<u8> {
    let mut file = Vec::new();
    let mut header = Vec::new();
    element(&mut header, 0x4286, &[1]); // EBMLVersion
    element(&mut header, 0x4282, b"webm"); // DocType
    element(&mut file, 0x1A45_DFA3, &header);
    open_element(&mut file, 0x1853_8067);
    let mut info = Vec::new();
    element(&mut info, 0x2A_D7B1, &[0x0F, 0x42, 0x40]); // TimecodeScale 1 ms
    element(&mut info, 0x4D80, b"Chrome"); // MuxingApp
    element(&mut file, 0x1549_A966, &info);
    let mut track = Vec::new();
    element(&mut track, 0xD7, &[1]); // TrackNumber
    element(&mut track, 0x83, &[1]); // TrackType video
    element(&mut track, 0x86, b"V_VP8");
    let mut tracks = Vec::new();
    element(&mut tracks, 0xAE, &track);
    element(&mut file, 0x1654_AE6B, &tracks);
    for &(timecode, blocks) in clusters {
        let mut body = Vec::new();
        element(&mut body, 0xE7, &[timecode]);
        for &(time, key) in blocks {
            body.extend_from_slice(&simple_block(1, time, key, &[0xAB; 40]));
        }
        if known_cluster_sizes {
            element(&mut file, 0x1F43_B675, &body);
        } else {
            open_element(&mut file, 0x1F43_B675);
            file.extend_from_slice(&body);
        }
    }
    file
}

/// A minimal independent reader: (id, data start, data end) of the element at `at`.
fn at(buf: &[u8], at: usize) -> (u32, usize, usize) {
    let first = buf[at];
    let id_len = first.leading_zeros() as usize + 1;
    let id = buf[at..at + id_len]
        .iter()
        .fold(0_u32, |a, &b| a << 8 | u32::from(b));
    let s = at + id_len;
    let len = buf[s].leading_zeros() as usize + 1;
    let mut value = u64::from(buf[s] & (0xFF_u8.checked_shr(len as u32).unwrap_or(0)));
    for &b in &buf[s + 1..s + len] {
        value = value << 8 | u64::from(b);
    }
    let data = s + len;
    (id, data, data + value as usize)
}

fn children(buf: &[u8], mut from: usize, to: usize) -> Vec<(u32, usize, usize, usize)> {
    let mut out = Vec::new();
    while from < to {
        let (i, data, end) = at(buf, from);
        out.push((i, from, data, end));
        from = end;
    }
    assert_eq!(from, to, "children fill their parent exactly");
    out
}

fn uint(buf: &[u8]) -> u64 {
    buf.iter().fold(0, |a, &b| a << 8 | u64::from(b))
}

fn check(file: &[u8], expect_ms: f64, expect_cues: &[u64]) {
    let (out, summary) = make_seekable(file).expect("a recording it understands");
    assert!(
        (summary.duration_ms - expect_ms).abs() < 1e-9,
        "{summary:?}"
    );
    assert_eq!(summary.cues, expect_cues.len());

    let top = children(&out, 0, out.len());
    assert_eq!(top.len(), 2, "EBML header and one Segment of known size");
    assert_eq!(
        &out[..top[0].3],
        &file[..top[0].3],
        "the EBML header as it was"
    );
    let (segment_id, _, seg_data, seg_end) = top[1];
    assert_eq!(segment_id, 0x1853_8067);
    let parts = children(&out, seg_data, seg_end);
    let ids: Vec<u32> = parts.iter().map(|p| p.0).collect();
    assert_eq!(ids[0], 0x114D_9B74, "SeekHead first");
    assert_eq!(*ids.last().unwrap(), 0x1C53_BB6B, "Cues last");

    // The SeekHead's positions land on the elements they name.
    for (seek_id, _, seek_data, seek_end) in children(&out, parts[0].2, parts[0].3) {
        assert_eq!(seek_id, 0x4DBB);
        let fields = children(&out, seek_data, seek_end);
        let target = uint(&out[fields[0].2..fields[0].3]) as u32;
        let position = uint(&out[fields[1].2..fields[1].3]) as usize;
        assert_eq!(
            at(&out, seg_data + position).0,
            target,
            "seek to {target:x}"
        );
    }

    // Duration is a float in Info.
    let info = parts.iter().find(|p| p.0 == 0x1549_A966).expect("Info");
    let duration = children(&out, info.2, info.3)
        .into_iter()
        .find(|c| c.0 == 0x4489)
        .expect("Duration");
    let value = f64::from_be_bytes(out[duration.2..duration.3].try_into().unwrap());
    assert!((value - expect_ms).abs() < 1e-9, "{value}");

    // Each cue points at a Cluster whose Timecode plus first keyframe is the cue's time.
    let cues = parts.last().unwrap();
    let mut times = Vec::new();
    for (point_id, _, point_data, point_end) in children(&out, cues.2, cues.3) {
        assert_eq!(point_id, 0xBB);
        let fields = children(&out, point_data, point_end);
        let time = uint(&out[fields[0].2..fields[0].3]);
        let positions = children(&out, fields[1].2, fields[1].3);
        assert_eq!(uint(&out[positions[0].2..positions[0].3]), 1, "track");
        let position = uint(&out[positions[1].2..positions[1].3]) as usize;
        let (cluster_id, cluster_data, cluster_end) = at(&out, seg_data + position);
        assert_eq!(cluster_id, 0x1F43_B675);
        let blocks = children(&out, cluster_data, cluster_end);
        assert_eq!(blocks[0].0, 0xE7);
        assert!(time >= uint(&out[blocks[0].2..blocks[0].3]));
        times.push(time);
    }
    assert_eq!(times, expect_cues);
    // The frames themselves are all still there, byte for byte.
    let count = |buf: &[u8]| {
        buf.windows(40)
            .filter(|w| w.iter().all(|&b| b == 0xAB))
            .count()
    };
    assert_eq!(count(&out), count(file));
}

#[wasm_bindgen_test]
fn a_live_recording_gets_duration_cues_and_sizes() {
    let clusters: &[(u8, &[(i16, bool)])] = &[
        (0, &[(0, true), (33, false), (66, false)]),
        (100, &[(0, true), (33, false), (66, false)]),
        // A cluster that starts without a keyframe gets no cue.
        (200, &[(0, false), (33, false), (66, false)]),
    ];
    // Last frame at 266 ms; 9 frames over 266 ms → one more frame of 33.25 ms.
    let expect = 266.0 + 266.0 / 8.0;
    check(&recording(clusters, false), expect, &[0, 100]);
    check(&recording(clusters, true), expect, &[0, 100]);
}

#[wasm_bindgen_test]
fn patching_twice_changes_nothing_more() {
    let clusters: &[(u8, &[(i16, bool)])] = &[(0, &[(0, true), (40, false)]), (80, &[(0, true)])];
    let (once, first) = make_seekable(&recording(clusters, false)).unwrap();
    let (twice, second) = make_seekable(&once).unwrap();
    assert_eq!(first, second);
    assert_eq!(once, twice, "old SeekHead and Cues are replaced, not kept");
}

#[wasm_bindgen_test]
fn a_recording_cut_short_keeps_its_whole_frames() {
    let clusters: &[(u8, &[(i16, bool)])] = &[
        (0, &[(0, true), (40, false)]),
        (80, &[(0, true), (40, false)]),
    ];
    let file = recording(clusters, false);
    // The last block loses its tail: the duration ends with the frame before it.
    let (_, summary) = make_seekable(&file[..file.len() - 5]).expect("still a recording");
    assert!(
        (summary.duration_ms - (80.0 + 40.0)).abs() < 1e-9,
        "{summary:?}"
    );
}

#[wasm_bindgen_test]
fn anything_else_is_left_alone_without_a_panic() {
    assert!(make_seekable(&[]).is_none());
    assert!(make_seekable(b"not a webm at all").is_none());
    let file = recording(&[(0, &[(0, true), (33, false)])], false);
    // Every prefix and a few corruptions: `None` or a result, never a panic.
    for end in 0..file.len() {
        let _ = make_seekable(&file[..end]);
    }
    let mut seed = 0x2545_F491_u32;
    for _ in 0..2000 {
        let mut bad = file.clone();
        for _ in 0..3 {
            seed ^= seed << 13;
            seed ^= seed >> 17;
            seed ^= seed << 5;
            let i = seed as usize % bad.len();
            bad[i] = (seed >> 8) as u8;
        }
        let _ = make_seekable(&bad);
    }
    // No Info or no Tracks: not something to patch.
    assert!(make_seekable(&file[..40]).is_none());
}
