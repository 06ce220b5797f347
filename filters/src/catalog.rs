//! The built-in filters: names, labels, parameters with ranges and defaults.
//!
//! [`Kind`] and [`CATALOG`] are in the same order, so `CATALOG[kind as usize]` describes `kind`.

/// One built-in filter as a UI or a URL sees it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FilterInfo {
    /// Name in the text form, e.g. `blur`.
    pub name: &'static str,
    /// Human label, e.g. `Box blur`.
    pub label: &'static str,
    pub description: &'static str,
    pub params: &'static [ParamInfo],
}

/// One numeric parameter. Toggles are parameters with `min 0, max 1, step 1`.
/// Parameters with a whole-number `step` accept whole numbers only.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ParamInfo {
    /// Name in the text form, e.g. `r` in `blur:r=3`.
    pub name: &'static str,
    pub label: &'static str,
    pub min: f32,
    pub max: f32,
    pub step: f32,
    pub default: f32,
    /// How the value is written in the text form.
    pub kind: ParamKind,
}

/// How a parameter's value is written in the text form (and shown in a UI).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ParamKind {
    /// A decimal number: `r=3`, `v=0.25`.
    Number,
    /// A colour as six hex digits `RRGGBB` (`color=00ff00`), held as the whole number
    /// `0xRRGGBB` (exact in an `f32`, whose 24-bit mantissa holds every colour).
    Color,
}

impl ParamInfo {
    pub(crate) fn whole(&self) -> bool {
        self.step.fract() == 0.0
    }
}

/// The catalog name closest to `name`, if it looks like a typo of it: at most one edit per
/// three characters (at least one), or a prefix of at least three characters (`gauss`).
/// Listing all twenty names instead would bury the one that was meant.
pub fn closest_filter_name(name: &str) -> Option<&'static str> {
    let typed = name.trim().to_ascii_lowercase();
    if typed.is_empty() || typed.len() > 64 {
        return None;
    }
    let (distance, best) = catalog()
        .iter()
        .map(|info| (strsim::damerau_levenshtein(&typed, info.name), info.name))
        .min_by_key(|(distance, _)| *distance)?;
    if distance <= (typed.chars().count() / 3).max(1) {
        return Some(best);
    }
    if typed.len() >= 3 {
        return catalog()
            .iter()
            .map(|info| info.name)
            .find(|known| known.starts_with(&typed));
    }
    None
}

/// Every built-in filter, in catalog order.
pub fn catalog() -> &'static [FilterInfo] {
    &CATALOG
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Kind {
    Grayscale,
    Sepia,
    Invert,
    Brightness,
    Contrast,
    Saturation,
    Gamma,
    Threshold,
    Posterize,
    Pixelate,
    Blur,
    Gaussian,
    Sharpen,
    Sobel,
    Canny,
    Emboss,
    Cartoon,
    Vignette,
    Mirror,
    Motion,
    SegmentBlur,
    SegmentReplace,
    Model,
}

impl Kind {
    const ALL: [Kind; 23] = [
        Kind::Grayscale,
        Kind::Sepia,
        Kind::Invert,
        Kind::Brightness,
        Kind::Contrast,
        Kind::Saturation,
        Kind::Gamma,
        Kind::Threshold,
        Kind::Posterize,
        Kind::Pixelate,
        Kind::Blur,
        Kind::Gaussian,
        Kind::Sharpen,
        Kind::Sobel,
        Kind::Canny,
        Kind::Emboss,
        Kind::Cartoon,
        Kind::Vignette,
        Kind::Mirror,
        Kind::Motion,
        Kind::SegmentBlur,
        Kind::SegmentReplace,
        Kind::Model,
    ];

    pub(crate) fn info(self) -> &'static FilterInfo {
        &CATALOG[self as usize]
    }

    pub(crate) fn from_name(name: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.info().name == name)
    }

    /// Filters that need a person mask from a [`crate::Segmenter`].
    pub(crate) fn is_segment(self) -> bool {
        matches!(self, Kind::SegmentBlur | Kind::SegmentReplace)
    }

    /// The user's own model (run by a [`crate::ModelRunner`]).
    pub(crate) fn is_model(self) -> bool {
        self == Kind::Model
    }

    /// Per-pixel colour filters: consecutive ones fuse into one pass.
    pub(crate) fn is_color(self) -> bool {
        matches!(
            self,
            Kind::Grayscale
                | Kind::Sepia
                | Kind::Invert
                | Kind::Brightness
                | Kind::Contrast
                | Kind::Saturation
                | Kind::Gamma
                | Kind::Threshold
                | Kind::Posterize
        )
    }
}

/// Most parameters any built-in filter has (the size of a spec's value array).
pub(crate) const MAX_PARAMS: usize = 3;

const fn p(
    name: &'static str,
    label: &'static str,
    min: f32,
    max: f32,
    step: f32,
    default: f32,
) -> ParamInfo {
    ParamInfo {
        name,
        label,
        min,
        max,
        step,
        default,
        kind: ParamKind::Number,
    }
}

/// A colour parameter, written `name=RRGGBB`.
const fn color(name: &'static str, label: &'static str, default: u32) -> ParamInfo {
    ParamInfo {
        name,
        label,
        min: 0.0,
        max: 16_777_215.0,
        step: 1.0,
        default: default as f32,
        kind: ParamKind::Color,
    }
}

const fn f(
    name: &'static str,
    label: &'static str,
    description: &'static str,
    params: &'static [ParamInfo],
) -> FilterInfo {
    FilterInfo {
        name,
        label,
        description,
        params,
    }
}

static CATALOG: [FilterInfo; 23] = [
    f(
        "grayscale",
        "Grayscale",
        "Luma (BT.601) in every colour channel.",
        &[],
    ),
    f(
        "sepia",
        "Sepia",
        "Warm brown tone; v blends from the original (0) to full sepia (1).",
        &[p("v", "Amount", 0.0, 1.0, 0.01, 1.0)],
    ),
    f("invert", "Invert", "Photographic negative.", &[]),
    f(
        "brightness",
        "Brightness",
        "Adds v × 255 to every colour channel.",
        &[p("v", "Brightness", -1.0, 1.0, 0.01, 0.0)],
    ),
    f(
        "contrast",
        "Contrast",
        "Scales colour around mid-grey by v.",
        &[p("v", "Contrast", 0.0, 4.0, 0.01, 1.0)],
    ),
    f(
        "saturation",
        "Saturation",
        "Scales colour away from its luma by v (0 is grey).",
        &[p("v", "Saturation", 0.0, 3.0, 0.01, 1.0)],
    ),
    f(
        "gamma",
        "Gamma",
        "Gamma correction; v above 1 brightens the mid-tones.",
        &[p("v", "Gamma", 0.1, 5.0, 0.01, 1.0)],
    ),
    f(
        "threshold",
        "Threshold",
        "White where luma is at least v, black elsewhere.",
        &[p("v", "Level", 0.0, 255.0, 1.0, 128.0)],
    ),
    f(
        "posterize",
        "Posterize",
        "n evenly spaced levels per colour channel.",
        &[p("n", "Levels", 2.0, 32.0, 1.0, 4.0)],
    ),
    f(
        "pixelate",
        "Pixelate",
        "Blocks of s × s pixels, each its average colour.",
        &[p("s", "Block size", 2.0, 64.0, 1.0, 8.0)],
    ),
    f(
        "blur",
        "Box blur",
        "Mean of the (2r+1)² square around each pixel; same cost for any radius.",
        &[p("r", "Radius", 1.0, 50.0, 1.0, 3.0)],
    ),
    f(
        "gaussian",
        "Gaussian blur",
        "Gaussian blur with standard deviation sigma.",
        &[p("sigma", "Sigma", 0.5, 10.0, 0.1, 1.5)],
    ),
    f(
        "sharpen",
        "Sharpen",
        "Unsharp mask: adds a × (pixel − its gaussian blur of sigma r).",
        &[
            p("a", "Amount", 0.0, 5.0, 0.05, 1.0),
            p("r", "Radius", 0.5, 5.0, 0.1, 1.0),
        ],
    ),
    f(
        "sobel",
        "Sobel edges",
        "Edge strength of the luma (Sobel, |gx| + |gy|).",
        &[],
    ),
    f(
        "canny",
        "Canny edges",
        "Thin white edges: gradient over hi, and over lo where connected to one.",
        &[
            p("lo", "Low threshold", 0.0, 1000.0, 1.0, 40.0),
            p("hi", "High threshold", 0.0, 1000.0, 1.0, 90.0),
        ],
    ),
    f(
        "emboss",
        "Emboss",
        "Grey relief lit from the top left.",
        &[],
    ),
    f(
        "cartoon",
        "Cartoon",
        "Smoothed, posterized colour with dark edges.",
        &[
            p("r", "Smoothing", 1.0, 10.0, 1.0, 2.0),
            p("n", "Levels", 2.0, 16.0, 1.0, 6.0),
            p("e", "Edge threshold", 0.0, 255.0, 1.0, 48.0),
        ],
    ),
    f(
        "vignette",
        "Vignette",
        "Darkens towards the corners; v = 1 reaches black.",
        &[p("v", "Strength", 0.0, 1.0, 0.01, 0.5)],
    ),
    f("mirror", "Mirror", "Flips left and right.", &[]),
    f(
        "motion",
        "Motion",
        "Marks in red the pixels whose luma changed by more than t since the last frame.",
        &[p("t", "Threshold", 1.0, 255.0, 1.0, 24.0)],
    ),
    f(
        "segment-blur",
        "Background blur",
        "Blurs everything but the person (box blur of radius r); soft widens the edge's blend.",
        &[
            p("r", "Blur radius", 1.0, 50.0, 1.0, 12.0),
            p("soft", "Edge softness", 0.0, 1.0, 0.01, 0.5),
        ],
    ),
    f(
        "segment-replace",
        "Background colour",
        "Replaces everything but the person with one colour (RRGGBB hex).",
        &[color("color", "Colour", 0x00_ff_00)],
    ),
    f(
        "model",
        "Your own model",
        "An ONNX model you pick, run on this device: an image output becomes the frame, a \
         mask output a red overlay. byte=1: the model takes pixels in 0–255 (else 0–1); \
         segment=1: its mask is the person mask of segment-blur and segment-replace.",
        &[
            p("byte", "Pixels in 0–255", 0.0, 1.0, 1.0, 0.0),
            p("segment", "Mask drives segment-*", 0.0, 1.0, 1.0, 0.0),
        ],
    ),
];
