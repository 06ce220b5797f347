//! The pipeline: compiles a [`PipelineSpec`] into stages (fusing runs of colour filters),
//! holds custom filters beside them, and applies everything in place to each frame.

use crate::{
    blur::{box_blur, gaussian, gaussian_weights, sharpen},
    cartoon::cartoon,
    catalog::Kind,
    color::ColorProgram,
    edges::{canny, emboss, sobel},
    frame::Frame,
    matte::{Backdrop, DEFAULT_SOFT, MaskStatus, Matte, Segmenter},
    mirror::mirror,
    model::{ModelRunner, ModelSettings},
    motion::MotionState,
    pixelate::pixelate,
    scratch::Scratch,
    spec::{FilterSpec, PipelineSpec},
    vignette::vignette,
};

/// A filter written outside this crate, run in a [`Pipeline`] beside the built-in ones.
///
/// `apply` changes the frame in place; `scratch` is working memory shared with the other
/// stages (see [`Scratch::bytes`]), so a filter that needs a buffer allocates it only once.
pub trait Filter {
    /// The stage label reported by [`Pipeline::apply_observed`].
    fn label(&self) -> &str;
    fn apply(&mut self, frame: &mut Frame<'_>, scratch: &mut Scratch);
}

/// One compiled built-in stage.
enum Op {
    Color(ColorProgram),
    Blur(u32),
    Gaussian(Vec<u16>),
    Sharpen {
        weights: Vec<u16>,
        amount_q8: i16,
    },
    Pixelate(u32),
    Sobel,
    Canny {
        lo: u16,
        hi: u16,
    },
    Emboss,
    Cartoon {
        r: u32,
        /// `posterize` with cartoon's level count: the same table, with its SIMD form.
        levels: ColorProgram,
        edge: u8,
    },
    Vignette(f32),
    Mirror,
    Motion(u8, MotionState),
    SegmentBlur {
        r: u32,
        soft: f32,
        matte: Box<Matte>,
    },
    SegmentReplace {
        rgb: [u8; 3],
        matte: Box<Matte>,
    },
    /// Runs the pipeline's [`ModelRunner`], if it has one.
    Model(ModelSettings),
}

/// State that outlives a recompile: the k-th stateful stage of a kind inherits the old k-th
/// one's (both lists reversed, so `pop` hands them out in order).
#[derive(Default)]
struct Carry {
    motion: Vec<MotionState>,
    mattes: Vec<Matte>,
}

impl Carry {
    fn take(stages: &mut [Stage]) -> Self {
        let mut carry = Carry::default();
        for stage in stages.iter_mut().rev() {
            match &mut stage.op {
                Op::Motion(_, state) => carry.motion.push(std::mem::take(state)),
                Op::SegmentBlur { matte, .. } | Op::SegmentReplace { matte, .. } => {
                    carry
                        .mattes
                        .push(std::mem::replace(&mut **matte, Matte::new(1, 1)));
                }
                _ => {}
            }
        }
        carry
    }

    fn matte(&mut self) -> Box<Matte> {
        // 256x144 is the landscape selfie model; a segmenter of another size replaces it.
        Box::new(self.mattes.pop().unwrap_or_else(|| Matte::new(256, 144)))
    }
}

struct Stage {
    label: String,
    op: Op,
}

enum Step {
    Builtin(usize),
    Custom(usize),
}

/// An ordered list of filters with the memory they need. Reuse one pipeline for every frame.
pub struct Pipeline {
    spec: PipelineSpec,
    stages: Vec<Stage>,
    /// Custom filters, sorted by the spec position each runs before (past the end = at the end).
    custom: Vec<(usize, Box<dyn Filter>)>,
    plan: Vec<Step>,
    scratch: Scratch,
    /// The model behind the segmentation stages, if one is set.
    segmenter: Option<Box<dyn Segmenter>>,
    /// What the segmentation stages did on the last frame (`None`: there are none).
    segment_status: Option<MaskStatus>,
    /// The picture `segment-replace` puts behind the person instead of its colour.
    backdrop: Option<Backdrop>,
    /// What runs the `model` stage, if set.
    model: Option<Box<dyn ModelRunner>>,
}

impl Pipeline {
    pub fn new(spec: PipelineSpec) -> Self {
        let mut pipeline = Self {
            spec: PipelineSpec::default(),
            stages: Vec::new(),
            custom: Vec::new(),
            plan: Vec::new(),
            scratch: Scratch::new(),
            segmenter: None,
            segment_status: None,
            backdrop: None,
            model: None,
        };
        pipeline.set_spec(spec);
        pipeline
    }

    pub fn spec(&self) -> &PipelineSpec {
        &self.spec
    }

    /// Replaces the spec. Stages are recompiled (tables and weights, microseconds); stateful
    /// filters keep their state (the k-th motion filter inherits the old k-th one's), and the
    /// scratch memory is kept, so changing a slider costs no per-frame allocation.
    pub fn set_spec(&mut self, spec: PipelineSpec) {
        if spec == self.spec && !self.plan.is_empty() {
            return;
        }
        let mut carry = Carry::take(&mut self.stages);
        self.spec = spec;
        self.rebuild(&mut carry);
    }

    /// Sets (or with `None` removes) the model behind `segment-blur` and `segment-replace`.
    /// Without one those stages leave the frame unchanged.
    pub fn set_segmenter(&mut self, segmenter: Option<Box<dyn Segmenter>>) {
        self.segmenter = segmenter;
    }

    /// Sets (or with `None` removes) the picture `segment-replace` puts behind the person;
    /// without one it uses its colour. A link cannot carry a picture, so the colour is also
    /// what a link's viewer sees until they pick one.
    pub fn set_backdrop(&mut self, backdrop: Option<Backdrop>) {
        self.backdrop = backdrop;
    }

    /// Whether the spec has a segmentation stage (so a segmenter should be loaded).
    pub fn needs_segmenter(&self) -> bool {
        self.spec.filters.iter().any(|f| f.kind().is_segment())
    }

    /// What the segmentation stages did on the last frame: `None` if there are none (or no
    /// frame ran yet); [`MaskStatus::Loading`] also while no segmenter is set.
    pub fn segment_status(&self) -> Option<&MaskStatus> {
        self.segment_status.as_ref()
    }

    /// Sets (or with `None` removes) what runs the `model` stage. Without one that stage
    /// leaves the frame unchanged.
    pub fn set_model_runner(&mut self, runner: Option<Box<dyn ModelRunner>>) {
        self.model = runner;
    }

    /// The settings of the first switched-on `model` stage, if the spec has one (so a
    /// model runner is wanted).
    pub fn model_stage(&self) -> Option<ModelSettings> {
        self.spec
            .filters
            .iter()
            .find(|f| f.kind().is_model() && f.is_enabled())
            .map(model_settings)
    }

    /// Inserts `filter` so that it runs just before spec filter `position` (0 = first;
    /// `spec().filters.len()` = after the last). Custom filters at the same position run in
    /// insertion order. The position is kept across `set_spec`; where a later spec is shorter,
    /// the filter runs at the end.
    pub fn insert_filter(&mut self, position: usize, filter: Box<dyn Filter>) {
        let position = position.min(self.spec.filters.len());
        self.insert_at(position, filter);
    }

    /// Appends `filter` after every filter, now and after any later `set_spec`.
    pub fn push_filter(&mut self, filter: Box<dyn Filter>) {
        self.insert_at(usize::MAX, filter);
    }

    fn insert_at(&mut self, position: usize, filter: Box<dyn Filter>) {
        let at = self.custom.partition_point(|(p, _)| *p <= position);
        self.custom.insert(at, (position, filter));
        let mut carry = Carry::take(&mut self.stages);
        self.rebuild(&mut carry);
    }

    /// Removes every custom filter.
    pub fn clear_custom(&mut self) -> Vec<Box<dyn Filter>> {
        let removed = self.custom.drain(..).map(|(_, f)| f).collect();
        let mut carry = Carry::take(&mut self.stages);
        self.rebuild(&mut carry);
        removed
    }

    /// Stage labels in run order: built-in names, fused colour runs as `a+b`, custom labels.
    pub fn stage_labels(&self) -> impl Iterator<Item = &str> + '_ {
        self.plan.iter().map(|step| match step {
            Step::Builtin(i) => self.stages[*i].label.as_str(),
            Step::Custom(i) => self.custom[*i].1.label(),
        })
    }

    pub fn apply(&mut self, frame: &mut Frame<'_>) {
        self.apply_observed(frame, &mut |_| {});
    }

    /// Applies every stage in order, calling `on_stage(label)` right after each finishes.
    pub fn apply_observed(&mut self, frame: &mut Frame<'_>, on_stage: &mut dyn FnMut(&str)) {
        self.segment_status = None;
        for step in &self.plan {
            match *step {
                Step::Builtin(i) => {
                    let stage = &mut self.stages[i];
                    if let Op::SegmentBlur { matte, .. } | Op::SegmentReplace { matte, .. } =
                        &mut stage.op
                    {
                        let status = match self.segmenter.as_deref_mut() {
                            Some(segmenter) => matte.run(frame, segmenter),
                            None => MaskStatus::Loading,
                        };
                        let ready = status == MaskStatus::Ready;
                        self.segment_status = Some(status);
                        if !ready {
                            on_stage(&stage.label);
                            continue;
                        }
                    }
                    if let Op::Model(settings) = stage.op {
                        if let Some(runner) = self.model.as_deref_mut() {
                            runner.run(frame, settings);
                        }
                    } else {
                        run(
                            &mut stage.op,
                            frame,
                            &mut self.scratch,
                            self.backdrop.as_mut(),
                        );
                    }
                    on_stage(&stage.label);
                }
                Step::Custom(i) => {
                    let filter = &mut self.custom[i].1;
                    filter.apply(frame, &mut self.scratch);
                    on_stage(filter.label());
                }
            }
        }
    }

    /// Compiles the spec into stages and interleaves the custom filters; `carry` hands old
    /// state to the new stateful stages in order.
    fn rebuild(&mut self, carry: &mut Carry) {
        self.stages.clear();
        self.plan.clear();
        let filters = &self.spec.filters;
        let mut custom = 0;
        let mut i = 0;
        while i <= filters.len() {
            while custom < self.custom.len() && (self.custom[custom].0 == i || i == filters.len()) {
                self.plan.push(Step::Custom(custom));
                custom += 1;
            }
            if i == filters.len() {
                break;
            }
            // A switched-off filter keeps its place in the spec (and in links) but runs as
            // if it were not there.
            if !filters[i].is_enabled() {
                i += 1;
                continue;
            }
            let kind = filters[i].kind();
            let (stage, next) = if kind.is_color() {
                // A colour run ends at a non-colour or switched-off filter, or where a custom
                // filter sits.
                let stop = self.custom.get(custom).map_or(filters.len(), |(p, _)| *p);
                let end = (i..filters.len().min(stop))
                    .find(|&j| !filters[j].kind().is_color() || !filters[j].is_enabled())
                    .unwrap_or(filters.len().min(stop));
                let run = &filters[i..end];
                let label = run
                    .iter()
                    .map(FilterSpec::name)
                    .collect::<Vec<_>>()
                    .join("+");
                let op = Op::Color(ColorProgram::new(run));
                (Stage { label, op }, end)
            } else {
                let op = compile(&filters[i], carry);
                let label = filters[i].name().to_owned();
                (Stage { label, op }, i + 1)
            };
            self.plan.push(Step::Builtin(self.stages.len()));
            self.stages.push(stage);
            i = next;
        }
    }
}

impl Default for Pipeline {
    fn default() -> Self {
        Self::new(PipelineSpec::default())
    }
}

impl std::fmt::Debug for Pipeline {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pipeline")
            .field("spec", &self.spec.to_string())
            .field("stages", &self.stage_labels().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

/// The `posterize` filter with `n` levels (cartoon's range lies within posterize's).
fn posterize(n: f32) -> FilterSpec {
    let mut spec = FilterSpec::new("posterize").expect("posterize is built in");
    spec.set_param("n", n)
        .expect("cartoon's level counts are posterize level counts");
    spec
}

/// Builds the op of one non-colour filter from its (validated) parameters.
fn compile(spec: &FilterSpec, carry: &mut Carry) -> Op {
    let v = |i| spec.value(i);
    match spec.kind() {
        Kind::Blur => Op::Blur(v(0) as u32),
        Kind::Gaussian => Op::Gaussian(gaussian_weights(v(0))),
        Kind::Sharpen => Op::Sharpen {
            weights: gaussian_weights(v(1)),
            amount_q8: (v(0) * 256.0).round() as i16,
        },
        Kind::Pixelate => Op::Pixelate(v(0) as u32),
        Kind::Sobel => Op::Sobel,
        Kind::Canny => Op::Canny {
            lo: v(0) as u16,
            hi: v(1) as u16,
        },
        Kind::Emboss => Op::Emboss,
        Kind::Cartoon => Op::Cartoon {
            r: v(0) as u32,
            levels: ColorProgram::new(&[posterize(v(1))]),
            edge: v(2) as u8,
        },
        Kind::Vignette => Op::Vignette(v(0)),
        Kind::Mirror => Op::Mirror,
        Kind::Motion => Op::Motion(v(0) as u8, carry.motion.pop().unwrap_or_default()),
        Kind::SegmentBlur => Op::SegmentBlur {
            r: v(0) as u32,
            soft: v(1),
            matte: carry.matte(),
        },
        Kind::SegmentReplace => {
            let rgb = v(0) as u32;
            Op::SegmentReplace {
                rgb: [(rgb >> 16) as u8, (rgb >> 8) as u8, rgb as u8],
                matte: carry.matte(),
            }
        }
        Kind::Model => Op::Model(model_settings(spec)),
        colour => unreachable!("colour filter {colour:?} is compiled into a ColorProgram"),
    }
}

fn model_settings(spec: &FilterSpec) -> ModelSettings {
    ModelSettings {
        byte_range: spec.value(0) >= 0.5,
        mask_as_segmentation: spec.value(1) >= 0.5,
    }
}

fn run(op: &mut Op, frame: &mut Frame<'_>, scratch: &mut Scratch, backdrop: Option<&mut Backdrop>) {
    match op {
        Op::Color(program) => {
            if let Some(all) = frame.tight_mut() {
                program.apply_row(all);
            } else {
                for row in frame.rows_mut() {
                    program.apply_row(row);
                }
            }
        }
        Op::Blur(r) => box_blur(frame, *r, scratch),
        Op::Gaussian(weights) => gaussian(frame, weights, scratch),
        Op::Sharpen { weights, amount_q8 } => sharpen(frame, weights, *amount_q8, scratch),
        Op::Pixelate(size) => pixelate(frame, *size, scratch),
        Op::Sobel => sobel(frame, scratch),
        Op::Canny { lo, hi } => canny(frame, *lo, *hi, scratch),
        Op::Emboss => emboss(frame, scratch),
        Op::Cartoon { r, levels, edge } => cartoon(frame, *r, levels, *edge, scratch),
        Op::Vignette(strength) => vignette(frame, *strength, scratch),
        Op::Mirror => mirror(frame),
        Op::Motion(threshold, state) => state.apply(frame, *threshold, scratch),
        // Reached only once the matte holds this frame's mask (see `apply_observed`).
        Op::SegmentBlur { r, soft, matte } => matte.blur_background(frame, *r, *soft, scratch),
        Op::SegmentReplace { rgb, matte } => match backdrop {
            Some(picture) => matte.replace_background_with(frame, picture, DEFAULT_SOFT),
            None => matte.replace_background(frame, *rgb, DEFAULT_SOFT),
        },
        // Reached only without a runner (see `apply_observed`): the frame passes unchanged.
        Op::Model(_) => {}
    }
}
