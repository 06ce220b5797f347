//! Making a `MediaRecorder` `WebM` seekable. Browsers write the file as a live stream: a
//! Segment of unknown size, no Duration, no Cues, so players show no length and cannot
//! seek. When a recording stops, [`make_seekable`] rewrites it once, in memory: the same
//! EBML header, Tracks and Clusters (each with its size now known), an Info with the
//! Duration, Cues pointing at every Cluster that starts with a keyframe, and a `SeekHead` in
//! front that points at Info, Tracks and Cues.
//!
//! Pure Rust on bytes (no web APIs), so it is unit-tested like any parser. Anything it does
//! not understand makes it give up (`None`) and the caller keeps the original file: it
//! never panics on any input.

/// Element IDs, with their length marker bits, as they appear in the file.
mod id {
    pub const EBML: u32 = 0x1A45_DFA3;
    pub const SEGMENT: u32 = 0x1853_8067;
    pub const SEEK_HEAD: u32 = 0x114D_9B74;
    pub const SEEK: u32 = 0x4DBB;
    pub const SEEK_ID: u32 = 0x53AB;
    pub const SEEK_POSITION: u32 = 0x53AC;
    pub const INFO: u32 = 0x1549_A966;
    pub const TIMECODE_SCALE: u32 = 0x2A_D7B1;
    pub const DURATION: u32 = 0x4489;
    pub const TRACKS: u32 = 0x1654_AE6B;
    pub const CLUSTER: u32 = 0x1F43_B675;
    pub const TIMECODE: u32 = 0xE7;
    pub const SIMPLE_BLOCK: u32 = 0xA3;
    pub const BLOCK_GROUP: u32 = 0xA0;
    pub const BLOCK: u32 = 0xA1;
    pub const CUES: u32 = 0x1C53_BB6B;
    pub const CUE_POINT: u32 = 0xBB;
    pub const CUE_TIME: u32 = 0xB3;
    pub const CUE_TRACK_POSITIONS: u32 = 0xB7;
    pub const CUE_TRACK: u32 = 0xF7;
    pub const CUE_CLUSTER_POSITION: u32 = 0xF1;
    pub const VOID: u32 = 0xEC;
    pub const CRC32: u32 = 0xBF;
    pub const ATTACHMENTS: u32 = 0x1941_A469;
    pub const CHAPTERS: u32 = 0x1043_A770;
    pub const TAGS: u32 = 0x1254_C367;

    /// Elements that live directly in the Segment: one of them ends a Cluster of unknown
    /// size (as does another EBML header, in a file of several streams glued together).
    pub const TOP_LEVEL: [u32; 10] = [
        EBML,
        SEGMENT,
        SEEK_HEAD,
        INFO,
        TRACKS,
        CLUSTER,
        CUES,
        ATTACHMENTS,
        CHAPTERS,
        TAGS,
    ];
}

/// What [`make_seekable`] found, for tests and logs.
#[derive(Clone, Debug, PartialEq)]
pub struct Summary {
    /// The Duration written, in milliseconds.
    pub duration_ms: f64,
    pub clusters: usize,
    pub cues: usize,
}

/// One element's header: its ID, where its data starts, and its size (`None`: unknown).
struct Header {
    id: u32,
    data: usize,
    size: Option<usize>,
}

/// Reads an element ID (1 to 4 bytes, marker bits kept).
fn read_id(buf: &[u8], at: usize) -> Option<(u32, usize)> {
    let first = *buf.get(at)?;
    let len = first.leading_zeros() as usize + 1;
    if len > 4 {
        return None;
    }
    let bytes = buf.get(at..at + len)?;
    let id = bytes.iter().fold(0_u32, |acc, &b| acc << 8 | u32::from(b));
    Some((id, at + len))
}

/// Reads a data size (1 to 8 bytes, marker removed); all ones means unknown.
fn read_size(buf: &[u8], at: usize) -> Option<(Option<u64>, usize)> {
    let first = *buf.get(at)?;
    let len = first.leading_zeros() as usize + 1;
    if len > 8 {
        return None;
    }
    let bytes = buf.get(at..at + len)?;
    let mask = if len == 8 { 0 } else { 0xFF_u8 >> len };
    let mut value = u64::from(first & mask);
    for &b in &bytes[1..] {
        value = value << 8 | u64::from(b);
    }
    let unknown = value == (1_u64 << (7 * len)) - 1;
    Some((if unknown { None } else { Some(value) }, at + len))
}

fn read_header(buf: &[u8], at: usize) -> Option<Header> {
    let (id, at) = read_id(buf, at)?;
    let (size, data) = read_size(buf, at)?;
    let size = match size {
        Some(size) => {
            let size = usize::try_from(size).ok()?;
            // A known size must fit in the buffer.
            if data.checked_add(size)? > buf.len() {
                return None;
            }
            Some(size)
        }
        None => None,
    };
    Some(Header { id, data, size })
}

fn read_uint(data: &[u8]) -> Option<u64> {
    if data.len() > 8 {
        return None;
    }
    Some(data.iter().fold(0_u64, |acc, &b| acc << 8 | u64::from(b)))
}

/// A Block's (or `SimpleBlock`'s) timecode relative to its Cluster, and whether the
/// `SimpleBlock` flags say keyframe; the track number is skipped.
fn block_time(data: &[u8]) -> Option<(i16, u64, bool)> {
    let (track, at) = read_size(data, 0)?;
    let time = data.get(at..at + 2)?;
    let flags = *data.get(at + 2)?;
    Some((
        i16::from_be_bytes([time[0], time[1]]),
        track?,
        flags & 0x80 != 0,
    ))
}

/// One Cluster, its children's bytes as they were (they all have known sizes).
struct Cluster<'a> {
    body: &'a [u8],
    timecode: u64,
    /// The first keyframe: its time (in timecode units) and track.
    key: Option<(u64, u64)>,
    /// Earliest and latest block time, in timecode units.
    first: Option<i64>,
    last: Option<i64>,
    blocks: u64,
}

/// Reads the Cluster whose data starts at `data`; returns it and where it ends.
fn read_cluster(buf: &[u8], data: usize, size: Option<usize>) -> Option<(Cluster<'_>, usize)> {
    let limit = size.map_or(buf.len(), |s| data + s);
    let mut at = data;
    let mut cluster = Cluster {
        body: &[],
        timecode: 0,
        key: None,
        first: None,
        last: None,
        blocks: 0,
    };
    let mut times: Vec<(i16, u64, bool)> = Vec::new();
    while at < limit {
        let (child_id, _) = read_id(buf, at)?;
        if size.is_none() && id::TOP_LEVEL.contains(&child_id) {
            break;
        }
        let Some(child) = read_header(buf, at) else {
            // A last child cut short (the recorder's final write): the Cluster ends before it.
            if size.is_none() {
                break;
            }
            return None;
        };
        let child_size = child.size?;
        let child_data = &buf[child.data..child.data + child_size];
        match child.id {
            id::TIMECODE => cluster.timecode = read_uint(child_data)?,
            id::SIMPLE_BLOCK => times.push(block_time(child_data)?),
            id::BLOCK_GROUP => {
                // Only the Block inside matters here; a BlockGroup is never taken as a cue.
                let mut inner = 0;
                while inner < child_data.len() {
                    let grand = read_header(child_data, inner)?;
                    let grand_size = grand.size?;
                    if grand.id == id::BLOCK {
                        let (time, track, _) =
                            block_time(&child_data[grand.data..grand.data + grand_size])?;
                        times.push((time, track, false));
                    }
                    inner = grand.data + grand_size;
                }
            }
            _ => {}
        }
        at = child.data + child_size;
    }
    if at > limit {
        return None;
    }
    cluster.body = &buf[data..at];
    let base = i64::try_from(cluster.timecode).ok()?;
    for (time, track, key) in times {
        let t = base.saturating_add(i64::from(time));
        cluster.first = Some(cluster.first.map_or(t, |f| f.min(t)));
        cluster.last = Some(cluster.last.map_or(t, |l| l.max(t)));
        cluster.blocks += 1;
        if key && cluster.key.is_none() {
            cluster.key = u64::try_from(t).ok().map(|t| (t, track));
        }
    }
    Some((cluster, at))
}

// ---- writing ----

fn write_id(out: &mut Vec<u8>, id: u32) {
    let bytes = id.to_be_bytes();
    let skip = bytes.iter().take_while(|&&b| b == 0).count().min(3);
    out.extend_from_slice(&bytes[skip..]);
}

/// Sizes are written in 8 bytes, so an element's length never depends on its contents'.
fn write_size(out: &mut Vec<u8>, size: usize) {
    out.push(0x01);
    out.extend_from_slice(&(size as u64).to_be_bytes()[1..]);
}

fn write_master(out: &mut Vec<u8>, id: u32, body: &[u8]) {
    write_id(out, id);
    write_size(out, body.len());
    out.extend_from_slice(body);
}

/// An unsigned integer in a fixed 8 bytes (fixed, again, so positions can be computed
/// before they are known).
fn write_uint(out: &mut Vec<u8>, id: u32, value: u64) {
    write_id(out, id);
    out.push(0x88);
    out.extend_from_slice(&value.to_be_bytes());
}

fn seek_head(entries: &[(u32, usize)]) -> Vec<u8> {
    let mut body = Vec::new();
    for &(target, position) in entries {
        let mut seek = Vec::new();
        write_id(&mut seek, id::SEEK_ID);
        seek.push(0x84);
        seek.extend_from_slice(&target.to_be_bytes());
        write_uint(&mut seek, id::SEEK_POSITION, position as u64);
        write_master(&mut body, id::SEEK, &seek);
    }
    let mut out = Vec::new();
    write_master(&mut out, id::SEEK_HEAD, &body);
    out
}

/// The Info element with `duration` (in timecode units) in place of any Duration it had.
fn info_with_duration(info: &[u8], duration: f64) -> Option<Vec<u8>> {
    let mut body = Vec::new();
    let mut at = 0;
    while at < info.len() {
        let child = read_header(info, at)?;
        let end = child.data + child.size?;
        if child.id != id::DURATION {
            body.extend_from_slice(&info[at..end]);
        }
        at = end;
    }
    write_id(&mut body, id::DURATION);
    body.push(0x88);
    body.extend_from_slice(&duration.to_be_bytes());
    let mut out = Vec::new();
    write_master(&mut out, id::INFO, &body);
    Some(out)
}

/// The timecode scale (nanoseconds per timecode unit) an Info element declares.
fn timecode_scale(info: &[u8]) -> Option<u64> {
    let mut at = 0;
    while at < info.len() {
        let child = read_header(info, at)?;
        let end = child.data + child.size?;
        if child.id == id::TIMECODE_SCALE {
            return read_uint(&info[child.data..end]).filter(|&s| s > 0);
        }
        at = end;
    }
    Some(1_000_000)
}

/// Rewrites a `WebM` file as a seekable one (see the module docs); `None` when the bytes are
/// not a `WebM` this understands.
pub fn make_seekable(file: &[u8]) -> Option<(Vec<u8>, Summary)> {
    let ebml = read_header(file, 0)?;
    if ebml.id != id::EBML {
        return None;
    }
    let header_end = ebml.data + ebml.size?;
    let segment = read_header(file, header_end)?;
    if segment.id != id::SEGMENT {
        return None;
    }
    let segment_end = segment.size.map_or(file.len(), |s| segment.data + s);

    let mut info = None;
    let mut tracks = None;
    let mut others: Vec<&[u8]> = Vec::new();
    let mut clusters = Vec::new();
    let mut at = segment.data;
    while at < segment_end {
        let Some(element) = read_header(file, at) else {
            break; // a cut-off end: keep what came before
        };
        if element.id == id::CLUSTER {
            let (cluster, end) = read_cluster(file, element.data, element.size)?;
            clusters.push(cluster);
            at = end;
            continue;
        }
        let end = element.data + element.size?;
        match element.id {
            id::INFO => info = Some(&file[element.data..end]),
            id::TRACKS => tracks = Some(&file[at..end]),
            // Rewritten below, or padding.
            id::SEEK_HEAD | id::CUES | id::VOID | id::CRC32 => {}
            _ => others.push(&file[at..end]),
        }
        at = end;
    }
    let info = info?;
    let tracks = tracks?;
    if clusters.is_empty() {
        return None;
    }

    let scale = timecode_scale(info)?;
    let first = clusters.iter().filter_map(|c| c.first).min()?;
    let last = clusters.iter().filter_map(|c| c.last).max()?;
    let blocks: u64 = clusters.iter().map(|c| c.blocks).sum();
    // Duration is where the last frame ends (timestamps count from 0); the last frame
    // lasts about as long as the average one.
    let span = last.max(0) as f64;
    let frame = if blocks > 1 {
        (last as f64 - first as f64) / (blocks - 1) as f64
    } else {
        0.0
    };
    let duration = span + frame;
    let info = info_with_duration(info, duration)?;

    // Positions are relative to the start of the Segment's data.
    let head_len = seek_head(&[(id::INFO, 0), (id::TRACKS, 0), (id::CUES, 0)]).len();
    let info_at = head_len;
    let tracks_at = info_at + info.len();
    let mut position = tracks_at + tracks.len() + others.iter().map(|o| o.len()).sum::<usize>();
    let mut cues_body = Vec::new();
    let mut cues = 0;
    let mut cluster_bytes = Vec::new();
    for cluster in &clusters {
        if let Some((time, track)) = cluster.key {
            let mut positions = Vec::new();
            write_uint(&mut positions, id::CUE_TRACK, track);
            write_uint(&mut positions, id::CUE_CLUSTER_POSITION, position as u64);
            let mut point = Vec::new();
            write_uint(&mut point, id::CUE_TIME, time);
            write_master(&mut point, id::CUE_TRACK_POSITIONS, &positions);
            write_master(&mut cues_body, id::CUE_POINT, &point);
            cues += 1;
        }
        let before = cluster_bytes.len();
        write_master(&mut cluster_bytes, id::CLUSTER, cluster.body);
        position += cluster_bytes.len() - before;
    }
    let cues_at = position;

    let mut body = seek_head(&[
        (id::INFO, info_at),
        (id::TRACKS, tracks_at),
        (id::CUES, cues_at),
    ]);
    body.extend_from_slice(&info);
    body.extend_from_slice(tracks);
    for other in &others {
        body.extend_from_slice(other);
    }
    body.extend_from_slice(&cluster_bytes);
    write_master(&mut body, id::CUES, &cues_body);

    let mut out = Vec::with_capacity(header_end + 12 + body.len());
    out.extend_from_slice(&file[..header_end]);
    write_master(&mut out, id::SEGMENT, &body);
    let summary = Summary {
        duration_ms: duration * scale as f64 / 1e6,
        clusters: clusters.len(),
        cues,
    };
    Some((out, summary))
}
