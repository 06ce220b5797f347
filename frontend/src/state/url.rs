//! The page state in the query string, so a link reproduces a setup:
//! `?source=camera|test|file&pipeline=<filters text form>&start=1&broadcast=1&res=720&fps=30`
//! (and `worker=0` for the main-thread path).
//!
//! Parsing never fails: each invalid value becomes a readable problem and its default, so a
//! bad link still opens a working page; a pipeline keeps its valid filters and names every
//! invalid one. Formatting keeps the pipeline text readable
//! (`|`, `:`, `=` and `,` are left as they are) and omits values that are at their default.

use std::fmt::Write as _;

use filters::{ParseError, PipelineSpec};

use super::source::{MAX_FPS, Resolution, SourceKind};

/// Longest query string looked at; anything longer is ignored (with a problem).
pub const MAX_QUERY_LEN: usize = 4096;

#[derive(Clone, Debug, PartialEq)]
pub struct UrlState {
    pub source: SourceKind,
    pub pipeline: PipelineSpec,
    /// Start the source without waiting for a click.
    pub start: bool,
    /// Start broadcasting as soon as the source runs.
    pub broadcast: bool,
    pub resolution: Resolution,
    pub fps: u32,
    /// Frames go through the workers where the browser can (`worker=0`: the page's main
    /// thread; read at start by `crate::worker`, kept here so the address keeps it).
    pub worker: bool,
}

impl Default for UrlState {
    fn default() -> Self {
        Self {
            source: SourceKind::default(),
            pipeline: PipelineSpec::default(),
            start: false,
            broadcast: false,
            resolution: Resolution::default(),
            fps: 30,
            worker: true,
        }
    }
}

/// The result of reading a query string: the state plus what was wrong with it.
#[derive(Clone, Debug, PartialEq)]
pub struct Parsed {
    pub state: UrlState,
    /// One sentence per invalid value, for the page to show.
    pub problems: Vec<String>,
}

impl UrlState {
    /// Reads a query string, with or without the leading `?`.
    pub fn parse(query: &str) -> Parsed {
        let mut state = Self::default();
        let mut problems = Vec::new();
        let query = query.strip_prefix('?').unwrap_or(query);
        if query.len() > MAX_QUERY_LEN {
            problems.push(format!(
                "The link's settings are too long ({} characters, at most {MAX_QUERY_LEN}); using the defaults.",
                query.len()
            ));
            return Parsed { state, problems };
        }
        for pair in query.split('&').filter(|pair| !pair.is_empty()) {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            let key = decode(key);
            let value = decode(value);
            match key.as_str() {
                "source" => match SourceKind::parse(&value) {
                    Some(kind) => state.source = kind,
                    None => problems.push(format!(
                        "Unknown source “{}” in the link (use camera, test or file); using the camera.",
                        shorten(&value)
                    )),
                },
                "pipeline" => {
                    let (pipeline, errors) = PipelineSpec::parse_lenient(&value);
                    if !errors.is_empty() {
                        problems.push(pipeline_problem(&errors, pipeline.filters.len()));
                    }
                    state.pipeline = pipeline;
                }
                "start" => flag(&mut state.start, "start", &value, &mut problems),
                "broadcast" => flag(&mut state.broadcast, "broadcast", &value, &mut problems),
                "worker" => flag(&mut state.worker, "worker", &value, &mut problems),
                "res" => match Resolution::parse(&value) {
                    Some(resolution) => state.resolution = resolution,
                    None => problems.push(format!(
                        "Unknown resolution “{}” in the link (use 480, 720 or 1080); using 720p.",
                        shorten(&value)
                    )),
                },
                "fps" => match value.parse::<u32>() {
                    Ok(fps) if (1..=MAX_FPS).contains(&fps) => state.fps = fps,
                    _ => problems.push(format!(
                        "Frame rate “{}” in the link is not a whole number from 1 to {MAX_FPS}; using 30.",
                        shorten(&value)
                    )),
                },
                // Other parameters belong to someone else (or to nobody): leave them alone.
                _ => {}
            }
        }
        Parsed { state, problems }
    }

    /// The query string for this state, starting with `?` (just `?` when all is default).
    pub fn to_query(&self) -> String {
        let defaults = Self::default();
        let mut query = String::from("?source=");
        query.push_str(self.source.as_str());
        if !self.pipeline.is_empty() {
            query.push_str("&pipeline=");
            encode_into(&mut query, &self.pipeline.to_string());
        }
        if self.resolution != defaults.resolution {
            let _ = write!(query, "&res={}", self.resolution.as_str());
        }
        if self.fps != defaults.fps {
            let _ = write!(query, "&fps={}", self.fps);
        }
        if self.start {
            query.push_str("&start=1");
        }
        if self.broadcast {
            query.push_str("&broadcast=1");
        }
        if !self.worker {
            query.push_str("&worker=0");
        }
        query
    }
}

/// One sentence for every invalid filter of a link's pipeline, saying what was kept.
fn pipeline_problem(errors: &[ParseError], kept: usize) -> String {
    // Each error is short (names are cut to 64 characters, no lists of every filter), and
    // a pipeline has at most MAX_FILTERS of them.
    let list = errors
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ");
    let outcome = match kept {
        0 => "starting with no filters".to_owned(),
        1 => "kept the other filter".to_owned(),
        n => format!("kept the other {n} filters"),
    };
    let what = if errors.len() == 1 {
        "a filter"
    } else {
        "some filters"
    };
    format!("The link's pipeline has {what} that could not be used ({list}); {outcome}.")
}

fn flag(slot: &mut bool, name: &str, value: &str, problems: &mut Vec<String>) {
    match value {
        "1" | "true" | "yes" | "on" | "" => *slot = true,
        "0" | "false" | "no" | "off" => *slot = false,
        other => problems.push(format!(
            "“{name}={}” in the link is not 1 or 0; ignoring it.",
            shorten(other)
        )),
    }
}

/// At most 40 characters of user text inside a message.
fn shorten(text: &str) -> String {
    let mut short: String = text.chars().take(40).collect();
    if short.len() < text.len() {
        short.push('…');
    }
    short
}

/// Percent-decoding of one query component (`+` is a space); invalid escapes stay as they are
/// and invalid UTF-8 becomes U+FFFD.
pub fn decode(text: &str) -> String {
    fn hex(digit: u8) -> Option<u8> {
        char::from(digit).to_digit(16).map(|d| d as u8)
    }
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                (Some(hi), Some(lo)) => {
                    out.push(hi << 4 | lo);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            byte => out.push(byte),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Appends `text` percent-encoded for a query value, keeping the pipeline syntax readable.
pub fn encode_into(out: &mut String, text: &str) {
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-_.~|:=,!*'()".contains(&byte) {
            out.push(char::from(byte));
        } else {
            let _ = write!(out, "%{byte:02X}");
        }
    }
}
