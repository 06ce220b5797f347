//! The pipeline as the editor sees it: filters with stable ids (for keyed lists and drag and
//! drop) that can be switched off without losing their settings. [`PipelineState::spec`] is
//! what actually runs: the enabled filters, in order. [`PipelineState::saved_spec`] is what
//! links and the text form keep: every filter, the switched-off ones marked (`!blur:r=7`).

use std::rc::Rc;

use filters::{FilterSpec, PipelineSpec, spec::MAX_FILTERS};
use yew::Reducible;

/// One filter in the editor.
#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    /// Unique within one [`PipelineState`]; never reused.
    pub id: u32,
    pub spec: FilterSpec,
    pub enabled: bool,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct PipelineState {
    entries: Vec<Entry>,
    next_id: u32,
}

/// Every edit the UI can make.
#[derive(Clone, Debug, PartialEq)]
pub enum PipelineAction {
    /// Appends the catalog filter `name` with default parameters.
    Add(String),
    Remove(u32),
    /// Moves the filter to index `to` (clamped to the list).
    Move {
        id: u32,
        to: usize,
    },
    MoveUp(u32),
    MoveDown(u32),
    SetEnabled {
        id: u32,
        enabled: bool,
    },
    /// Sets a parameter; the value is clamped into range and rounded for whole-step parameters.
    SetParam {
        id: u32,
        param: String,
        value: f32,
    },
    /// Puts one filter's parameters back to their defaults.
    ResetParams(u32),
    /// Removes every filter.
    Clear,
    /// Replaces everything (e.g. with the pipeline from the URL).
    Replace(PipelineSpec),
}

impl PipelineState {
    pub fn from_spec(spec: &PipelineSpec) -> Self {
        let mut state = Self::default();
        state.replace(spec);
        state
    }

    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Whether another filter may be added.
    pub fn is_full(&self) -> bool {
        self.entries.len() >= MAX_FILTERS
    }

    /// The pipeline that runs: enabled filters in order.
    pub fn spec(&self) -> PipelineSpec {
        PipelineSpec {
            filters: self
                .entries
                .iter()
                .filter(|entry| entry.enabled)
                .map(|entry| entry.spec.clone())
                .collect(),
        }
    }

    /// Every filter, switched-off ones included (and marked so): for links and reloads.
    pub fn saved_spec(&self) -> PipelineSpec {
        PipelineSpec {
            filters: self
                .entries
                .iter()
                .map(|entry| entry.spec.clone().with_enabled(entry.enabled))
                .collect(),
        }
    }

    fn replace(&mut self, spec: &PipelineSpec) {
        self.entries.clear();
        for filter in spec.filters.iter().take(MAX_FILTERS) {
            self.push(filter.clone());
        }
    }

    /// `Entry::enabled` is the one switch: the entry's spec itself is always on.
    fn push(&mut self, spec: FilterSpec) {
        let id = self.next_id;
        self.next_id += 1;
        self.entries.push(Entry {
            id,
            enabled: spec.is_enabled(),
            spec: spec.with_enabled(true),
        });
    }

    fn index(&self, id: u32) -> Option<usize> {
        self.entries.iter().position(|entry| entry.id == id)
    }

    fn entry_mut(&mut self, id: u32) -> Option<&mut Entry> {
        self.entries.iter_mut().find(|entry| entry.id == id)
    }

    /// Applies one edit. Edits naming an unknown id or filter change nothing; returns whether
    /// the state changed.
    pub fn apply(&mut self, action: PipelineAction) -> bool {
        match action {
            PipelineAction::Add(name) => {
                if self.is_full() {
                    return false;
                }
                let Ok(spec) = FilterSpec::new(&name) else {
                    return false;
                };
                self.push(spec);
                true
            }
            PipelineAction::Remove(id) => self.index(id).map(|i| self.entries.remove(i)).is_some(),
            PipelineAction::Move { id, to } => self.move_to(id, to),
            PipelineAction::MoveUp(id) => match self.index(id) {
                Some(i) if i > 0 => self.move_to(id, i - 1),
                _ => false,
            },
            PipelineAction::MoveDown(id) => match self.index(id) {
                Some(i) => self.move_to(id, i + 1),
                None => false,
            },
            PipelineAction::SetEnabled { id, enabled } => match self.entry_mut(id) {
                Some(entry) if entry.enabled != enabled => {
                    entry.enabled = enabled;
                    true
                }
                _ => false,
            },
            PipelineAction::SetParam { id, param, value } => {
                let Some(entry) = self.entry_mut(id) else {
                    return false;
                };
                let Some(info) = entry.spec.info().params.iter().find(|p| p.name == param) else {
                    return false;
                };
                if !value.is_finite() {
                    return false;
                }
                let mut value = value.clamp(info.min, info.max);
                if info.step.fract() == 0.0 {
                    value = value.round();
                }
                if entry.spec.param(info.name) == Some(value) {
                    return false;
                }
                entry.spec.set_param(info.name, value).is_ok()
            }
            PipelineAction::ResetParams(id) => {
                let Some(entry) = self.entry_mut(id) else {
                    return false;
                };
                let Ok(fresh) = FilterSpec::new(entry.spec.name()) else {
                    return false;
                };
                let changed = fresh != entry.spec;
                entry.spec = fresh;
                changed
            }
            PipelineAction::Clear => {
                let changed = !self.entries.is_empty();
                self.entries.clear();
                changed
            }
            PipelineAction::Replace(spec) => {
                self.replace(&spec);
                true
            }
        }
    }

    fn move_to(&mut self, id: u32, to: usize) -> bool {
        let Some(from) = self.index(id) else {
            return false;
        };
        let to = to.min(self.entries.len() - 1);
        if from == to {
            return false;
        }
        let entry = self.entries.remove(from);
        self.entries.insert(to, entry);
        true
    }
}

impl Reducible for PipelineState {
    type Action = PipelineAction;

    fn reduce(self: Rc<Self>, action: PipelineAction) -> Rc<Self> {
        let mut next = (*self).clone();
        if next.apply(action) {
            Rc::new(next)
        } else {
            self
        }
    }
}
