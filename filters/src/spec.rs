//! Pipeline specifications: validated filter parameters, the URL-safe text form
//! (`grayscale|blur:r=3|canny:lo=40,hi=90`, a switched-off filter written `!blur:r=3`) and
//! serde support.
//!
//! Every way into a [`FilterSpec`] (constructor, `set_param`, text, serde) goes through the same
//! range checks, so a `Pipeline` never sees an invalid parameter. [`PipelineSpec::from_str`]
//! refuses text with any error; [`PipelineSpec::parse_lenient`] keeps the valid filters of a
//! link and reports every invalid one.

use std::{collections::BTreeMap, fmt, str::FromStr};

use serde::{Deserialize, Serialize};
use thiserror::Error;

pub use crate::catalog::closest_filter_name;
use crate::catalog::{FilterInfo, Kind, MAX_PARAMS, ParamInfo, ParamKind};

/// Most filters one pipeline may hold.
pub const MAX_FILTERS: usize = 32;
/// Longest accepted pipeline text, in bytes.
pub const MAX_SPEC_LEN: usize = 2048;

/// A filter name or parameter that is not valid.
#[derive(Clone, Debug, PartialEq, Error)]
pub enum SpecError {
    /// `suggestion` is the closest catalog name, when one is close enough to be a typo.
    #[error("unknown filter `{name}`{}", did_you_mean(*.suggestion))]
    UnknownFilter {
        name: String,
        suggestion: Option<&'static str>,
    },
    #[error("{filter}: unknown parameter `{param}` ({allowed})")]
    UnknownParam {
        filter: &'static str,
        param: String,
        allowed: String,
    },
    #[error("{filter}: {param}={value} is out of range {min}..={max}")]
    OutOfRange {
        filter: &'static str,
        param: &'static str,
        value: f32,
        min: f32,
        max: f32,
    },
    #[error("{filter}: {param}={value} must be a whole number in {min}..={max}")]
    NotWhole {
        filter: &'static str,
        param: &'static str,
        value: f32,
        min: f32,
        max: f32,
    },
}

/// Pipeline text that cannot be parsed.
#[derive(Clone, Debug, PartialEq, Error)]
pub enum ParseError {
    #[error(transparent)]
    Spec(#[from] SpecError),
    #[error("filter {position} has an empty name")]
    EmptyName { position: usize },
    #[error("{filter}: `{text}` is not of the form name=value")]
    NotAssignment { filter: &'static str, text: String },
    #[error("{filter}: {param}=`{text}` is not a number (range {min}..={max})")]
    NotANumber {
        filter: &'static str,
        param: &'static str,
        text: String,
        min: f32,
        max: f32,
    },
    #[error("{filter}: {param}=`{text}` is not a colour (six hex digits RRGGBB, e.g. 00ff00)")]
    NotAColor {
        filter: &'static str,
        param: &'static str,
        text: String,
    },
    #[error("{filter}: parameter {param} is given twice")]
    Duplicate {
        filter: &'static str,
        param: &'static str,
    },
    #[error("pipeline has {count} filters, at most {max} allowed", max = MAX_FILTERS)]
    TooManyFilters { count: usize },
    #[error("pipeline text is {len} bytes long, at most {max} allowed", max = MAX_SPEC_LEN)]
    TooLong { len: usize },
    /// Short as typed, but its canonical text (what `Display` writes, and so every link the
    /// app makes) would not parse: numbers such as `1e-45` are written out in full.
    #[error(
        "pipeline text is {len} bytes long once its numbers are written out, at most {max} allowed",
        max = MAX_SPEC_LEN
    )]
    CanonicalTooLong { len: usize },
}

fn did_you_mean(suggestion: Option<&str>) -> String {
    suggestion.map_or_else(String::new, |name| format!(" (did you mean `{name}`?)"))
}

fn allowed_params(info: &FilterInfo) -> String {
    if info.params.is_empty() {
        return "it takes none".to_owned();
    }
    let names: Vec<String> = info
        .params
        .iter()
        .map(|p| format!("{} in {}..={}", p.name, p.min, p.max))
        .collect();
    format!("allowed: {}", names.join(", "))
}

/// One built-in filter with validated parameters.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "RawFilter", into = "RawFilter")]
pub struct FilterSpec {
    kind: Kind,
    values: [f32; MAX_PARAMS],
    enabled: bool,
}

impl FilterSpec {
    /// The filter `name` with every parameter at its default.
    pub fn new(name: &str) -> Result<Self, SpecError> {
        let kind = Kind::from_name(name).ok_or_else(|| SpecError::UnknownFilter {
            name: name.chars().take(64).collect(),
            suggestion: closest_filter_name(name),
        })?;
        let mut values = [0.0; MAX_PARAMS];
        for (value, param) in values.iter_mut().zip(kind.info().params) {
            *value = param.default;
        }
        Ok(Self {
            kind,
            values,
            enabled: true,
        })
    }

    /// Whether the filter runs. A switched-off filter keeps its place and settings in the
    /// spec and its text (`!blur:r=3`), and a [`crate::Pipeline`] skips it.
    pub fn is_enabled(&self) -> bool {
        self.enabled
    }

    pub fn set_enabled(&mut self, enabled: bool) {
        self.enabled = enabled;
    }

    /// This filter switched on or off.
    #[must_use]
    pub fn with_enabled(mut self, enabled: bool) -> Self {
        self.enabled = enabled;
        self
    }

    pub fn name(&self) -> &str {
        self.info().name
    }

    /// The catalog entry of this filter.
    pub fn info(&self) -> &'static FilterInfo {
        self.kind.info()
    }

    pub fn param(&self, name: &str) -> Option<f32> {
        self.index_of(name).map(|i| self.values[i])
    }

    /// Sets a parameter after checking it exists and is in range (and whole, for whole-step ones).
    pub fn set_param(&mut self, name: &str, value: f32) -> Result<(), SpecError> {
        let info = self.info();
        let index = self.index_of(name).ok_or_else(|| SpecError::UnknownParam {
            filter: info.name,
            param: name.chars().take(64).collect(),
            allowed: allowed_params(info),
        })?;
        let param = &info.params[index];
        self.values[index] = check_value(info, param, value)?;
        Ok(())
    }

    /// `(name, value)` of every parameter, in catalog order.
    pub fn params(&self) -> impl Iterator<Item = (&str, f32)> + '_ {
        self.info()
            .params
            .iter()
            .zip(self.values)
            .map(|(p, v)| (p.name, v))
    }

    pub(crate) fn kind(&self) -> Kind {
        self.kind
    }

    /// Parameter `index` (catalog order); the kernels read their values through this.
    pub(crate) fn value(&self, index: usize) -> f32 {
        self.values[index]
    }

    fn index_of(&self, name: &str) -> Option<usize> {
        self.info().params.iter().position(|p| p.name == name)
    }
}

fn check_value(info: &FilterInfo, param: &ParamInfo, value: f32) -> Result<f32, SpecError> {
    // NaN fails both comparisons, so it is reported as out of range.
    if !(value >= param.min && value <= param.max) {
        return Err(SpecError::OutOfRange {
            filter: info.name,
            param: param.name,
            value,
            min: param.min,
            max: param.max,
        });
    }
    if param.whole() && value.fract() != 0.0 {
        return Err(SpecError::NotWhole {
            filter: info.name,
            param: param.name,
            value,
            min: param.min,
            max: param.max,
        });
    }
    // -0.0 and 0.0 are the same setting; keep one so Display and equality agree.
    Ok(if value == 0.0 { 0.0 } else { value })
}

/// Writes `name` or `name:p=v,q=w` with every parameter in catalog order, so a saved link
/// keeps its meaning even if a default changes later; a switched-off filter starts with `!`.
impl fmt::Display for FilterSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.enabled {
            f.write_str(DISABLED_MARK)?;
        }
        f.write_str(self.name())?;
        let mut separator = ':';
        for (param, value) in self.info().params.iter().zip(self.values) {
            match param.kind {
                ParamKind::Number => write!(f, "{separator}{}={value}", param.name)?,
                // Validated whole and in 0..=0xFFFFFF, so the cast is exact.
                ParamKind::Color => write!(f, "{separator}{}={:06x}", param.name, value as u32)?,
            }
            separator = ',';
        }
        Ok(())
    }
}

impl FromStr for FilterSpec {
    type Err = ParseError;

    fn from_str(text: &str) -> Result<Self, ParseError> {
        parse_filter(text, 0)
    }
}

/// Written before a switched-off filter in the text form: `grayscale|!blur:r=3`.
pub const DISABLED_MARK: &str = "!";

fn parse_filter(text: &str, position: usize) -> Result<FilterSpec, ParseError> {
    let (name, args) = match text.split_once(':') {
        Some((name, args)) => (name.trim(), Some(args)),
        None => (text.trim(), None),
    };
    let (name, enabled) = match name.strip_prefix(DISABLED_MARK) {
        Some(rest) => (rest.trim_start(), false),
        None => (name, true),
    };
    if name.is_empty() {
        return Err(ParseError::EmptyName { position });
    }
    let mut spec = FilterSpec::new(name)?.with_enabled(enabled);
    let info = spec.info();
    let Some(args) = args else {
        return Ok(spec);
    };
    let mut seen = [false; MAX_PARAMS];
    for arg in args.split(',') {
        let arg = arg.trim();
        if arg.is_empty() {
            // Tolerate `blur:` and trailing commas: nothing to set.
            continue;
        }
        let Some((key, value)) = arg.split_once('=') else {
            return Err(ParseError::NotAssignment {
                filter: info.name,
                text: arg.chars().take(64).collect(),
            });
        };
        let key = key.trim();
        let index = spec.index_of(key).ok_or_else(|| SpecError::UnknownParam {
            filter: info.name,
            param: key.chars().take(64).collect(),
            allowed: allowed_params(info),
        })?;
        let param = &info.params[index];
        if std::mem::replace(&mut seen[index], true) {
            return Err(ParseError::Duplicate {
                filter: info.name,
                param: param.name,
            });
        }
        let value = value.trim();
        let number = match param.kind {
            ParamKind::Number => value.parse::<f32>().ok().filter(|v| v.is_finite()),
            ParamKind::Color => parse_color(value).map(|rgb| rgb as f32),
        }
        .ok_or_else(|| match param.kind {
            ParamKind::Number => ParseError::NotANumber {
                filter: info.name,
                param: param.name,
                text: value.chars().take(64).collect(),
                min: param.min,
                max: param.max,
            },
            ParamKind::Color => ParseError::NotAColor {
                filter: info.name,
                param: param.name,
                text: value.chars().take(64).collect(),
            },
        })?;
        spec.values[index] = check_value(info, param, number)?;
    }
    Ok(spec)
}

/// `RRGGBB` (exactly six hex digits, either case) as `0xRRGGBB`.
fn parse_color(text: &str) -> Option<u32> {
    if text.len() != 6 || !text.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    u32::from_str_radix(text, 16).ok()
}

/// An ordered list of filters; the text form is the filters joined by `|`.
#[derive(Clone, Debug, PartialEq, Default, Serialize, Deserialize)]
#[serde(try_from = "RawPipeline")]
pub struct PipelineSpec {
    pub filters: Vec<FilterSpec>,
}

impl PipelineSpec {
    pub fn is_empty(&self) -> bool {
        self.filters.is_empty()
    }

    /// Parses a link's pipeline as far as it is valid: every filter that parses is kept, in
    /// order, and every one that does not is reported (in order) instead of failing the
    /// whole text. Only text over [`MAX_SPEC_LEN`] gives nothing; past [`MAX_FILTERS`]
    /// filters the rest are dropped with one error.
    pub fn parse_lenient(text: &str) -> (Self, Vec<ParseError>) {
        if text.len() > MAX_SPEC_LEN {
            return (
                Self::default(),
                vec![ParseError::TooLong { len: text.len() }],
            );
        }
        if text.trim().is_empty() {
            return (Self::default(), Vec::new());
        }
        let mut errors = Vec::new();
        let count = text.split('|').count();
        if count > MAX_FILTERS {
            errors.push(ParseError::TooManyFilters { count });
        }
        let mut filters = Vec::new();
        for (i, part) in text.split('|').take(MAX_FILTERS).enumerate() {
            match parse_filter(part, i + 1) {
                Ok(filter) => filters.push(filter),
                Err(err) => errors.push(err),
            }
        }
        let mut spec = Self { filters };
        // Short as typed, long once written out (`1e-45`): drop filters from the end until
        // the canonical text fits, so every link the app writes parses again.
        let len = spec.to_string().len();
        if len > MAX_SPEC_LEN {
            errors.push(ParseError::CanonicalTooLong { len });
            while spec.to_string().len() > MAX_SPEC_LEN {
                spec.filters.pop();
            }
        }
        (spec, errors)
    }
}

impl fmt::Display for PipelineSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, filter) in self.filters.iter().enumerate() {
            if i > 0 {
                f.write_str("|")?;
            }
            write!(f, "{filter}")?;
        }
        Ok(())
    }
}

impl FromStr for PipelineSpec {
    type Err = ParseError;

    /// `""` (or only spaces) is the empty pipeline; empty segments (`a||b`) are errors.
    fn from_str(text: &str) -> Result<Self, ParseError> {
        if text.len() > MAX_SPEC_LEN {
            return Err(ParseError::TooLong { len: text.len() });
        }
        if text.trim().is_empty() {
            return Ok(Self::default());
        }
        let count = text.split('|').count();
        if count > MAX_FILTERS {
            return Err(ParseError::TooManyFilters { count });
        }
        let filters = text
            .split('|')
            .enumerate()
            .map(|(i, part)| parse_filter(part, i + 1))
            .collect::<Result<_, _>>()?;
        let spec = Self { filters };
        // Every accepted text must round-trip: the canonical form goes into links.
        let len = spec.to_string().len();
        if len > MAX_SPEC_LEN {
            return Err(ParseError::CanonicalTooLong { len });
        }
        Ok(spec)
    }
}

/// The serde shape of a filter: `{"name": "blur", "params": {"r": 3}}`, with
/// `"enabled": false` for a switched-off one.
#[derive(Serialize, Deserialize)]
struct RawFilter {
    name: String,
    #[serde(default)]
    params: BTreeMap<String, f32>,
    #[serde(default = "enabled_default", skip_serializing_if = "is_true")]
    enabled: bool,
}

fn enabled_default() -> bool {
    true
}

#[expect(
    clippy::trivially_copy_pass_by_ref,
    reason = "serde's skip_serializing_if signature"
)]
fn is_true(value: &bool) -> bool {
    *value
}

impl TryFrom<RawFilter> for FilterSpec {
    type Error = SpecError;

    fn try_from(raw: RawFilter) -> Result<Self, SpecError> {
        let mut spec = FilterSpec::new(&raw.name)?.with_enabled(raw.enabled);
        for (name, value) in raw.params {
            spec.set_param(&name, value)?;
        }
        Ok(spec)
    }
}

impl From<FilterSpec> for RawFilter {
    fn from(spec: FilterSpec) -> Self {
        RawFilter {
            name: spec.name().to_owned(),
            params: spec.params().map(|(n, v)| (n.to_owned(), v)).collect(),
            enabled: spec.enabled,
        }
    }
}

#[derive(Deserialize)]
struct RawPipeline {
    filters: Vec<FilterSpec>,
}

impl TryFrom<RawPipeline> for PipelineSpec {
    type Error = ParseError;

    fn try_from(raw: RawPipeline) -> Result<Self, ParseError> {
        if raw.filters.len() > MAX_FILTERS {
            return Err(ParseError::TooManyFilters {
                count: raw.filters.len(),
            });
        }
        Ok(Self {
            filters: raw.filters,
        })
    }
}
