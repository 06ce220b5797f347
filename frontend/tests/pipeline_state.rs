//! The pipeline editor's model: every edit the UI makes, and what runs as a result.

use std::rc::Rc;

use filters::spec::MAX_FILTERS;
use frontend::state::{PipelineAction, PipelineState};
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};
use yew::Reducible;

wasm_bindgen_test_configure!(run_in_browser);

fn state(text: &str) -> PipelineState {
    PipelineState::from_spec(&text.parse().unwrap())
}

/// The filter names that run, `|`-joined (parameters are checked separately).
fn names(state: &PipelineState) -> String {
    let spec = state.spec();
    let names: Vec<&str> = spec.filters.iter().map(filters::FilterSpec::name).collect();
    names.join("|")
}

fn ids(state: &PipelineState) -> Vec<u32> {
    state.entries().iter().map(|e| e.id).collect()
}

#[wasm_bindgen_test]
fn add_remove_and_unknown_names() {
    let mut s = PipelineState::default();
    assert!(s.apply(PipelineAction::Add("grayscale".into())));
    assert!(s.apply(PipelineAction::Add("blur".into())));
    assert!(!s.apply(PipelineAction::Add("nope".into())));
    assert_eq!(names(&s), "grayscale|blur");
    let first = s.entries()[0].id;
    assert!(s.apply(PipelineAction::Remove(first)));
    assert!(!s.apply(PipelineAction::Remove(first)), "already gone");
    assert_eq!(names(&s), "blur");
}

#[wasm_bindgen_test]
fn ids_are_never_reused() {
    let mut s = state("grayscale|sobel");
    let old = ids(&s);
    s.apply(PipelineAction::Remove(old[1]));
    s.apply(PipelineAction::Add("invert".into()));
    assert!(!old.contains(&s.entries()[1].id));
}

#[wasm_bindgen_test]
fn reorder_by_buttons_and_drag() {
    let mut s = state("grayscale|blur|sobel");
    let [a, b, c] = ids(&s)[..] else {
        panic!("three entries")
    };
    assert!(!s.apply(PipelineAction::MoveUp(a)), "first cannot move up");
    assert!(
        !s.apply(PipelineAction::MoveDown(c)),
        "last cannot move down"
    );
    assert!(s.apply(PipelineAction::MoveDown(a)));
    assert_eq!(ids(&s), [b, a, c]);
    assert!(s.apply(PipelineAction::MoveUp(c)));
    assert_eq!(ids(&s), [b, c, a]);
    assert!(s.apply(PipelineAction::Move { id: a, to: 0 }));
    assert_eq!(ids(&s), [a, b, c]);
    assert!(
        s.apply(PipelineAction::Move { id: a, to: 99 }),
        "clamped to the end"
    );
    assert_eq!(ids(&s), [b, c, a]);
    assert_eq!(names(&s), "blur|sobel|grayscale");
}

#[wasm_bindgen_test]
fn disabled_filters_keep_settings_but_do_not_run() {
    let mut s = state("grayscale|blur:r=7|sobel");
    let blur = s.entries()[1].id;
    assert!(s.apply(PipelineAction::SetEnabled {
        id: blur,
        enabled: false
    }));
    assert!(!s.apply(PipelineAction::SetEnabled {
        id: blur,
        enabled: false
    }));
    assert_eq!(names(&s), "grayscale|sobel");
    assert!(s.apply(PipelineAction::SetEnabled {
        id: blur,
        enabled: true
    }));
    assert_eq!(names(&s), "grayscale|blur|sobel");
    assert_eq!(
        s.spec().filters[1].param("r"),
        Some(7.0),
        "settings survive"
    );
}

#[wasm_bindgen_test]
fn disabled_filters_survive_the_text_form_and_a_reload() {
    let mut s = state("grayscale|blur:r=7|sobel");
    let blur = s.entries()[1].id;
    s.apply(PipelineAction::SetEnabled {
        id: blur,
        enabled: false,
    });
    let saved = s.saved_spec();
    assert_eq!(saved.to_string(), "grayscale|!blur:r=7|sobel");
    assert!(
        s.spec().filters.iter().all(filters::FilterSpec::is_enabled),
        "what runs is only switched-on filters"
    );
    // A reload reads the saved text back: the filter is there, off, with its settings.
    let reloaded = PipelineState::from_spec(&saved.to_string().parse().unwrap());
    assert_eq!(reloaded.len(), 3);
    assert!(!reloaded.entries()[1].enabled);
    assert!(
        reloaded.entries()[1].spec.is_enabled(),
        "the entry holds the switch"
    );
    assert_eq!(reloaded.entries()[1].spec.param("r"), Some(7.0));
    assert_eq!(names(&reloaded), "grayscale|sobel");
    assert_eq!(reloaded.saved_spec(), saved);
}

#[wasm_bindgen_test]
fn parameters_are_clamped_rounded_and_reset() {
    let mut s = state("blur");
    let id = s.entries()[0].id;
    let set = |s: &mut PipelineState, value: f32| {
        s.apply(PipelineAction::SetParam {
            id,
            param: "r".into(),
            value,
        })
    };
    assert!(set(&mut s, 4.4));
    assert_eq!(
        s.entries()[0].spec.param("r"),
        Some(4.0),
        "whole-step parameter rounds"
    );
    assert!(!set(&mut s, 4.0), "no change");
    assert!(set(&mut s, 1e9));
    let max = s.entries()[0].spec.info().params[0].max;
    assert_eq!(
        s.entries()[0].spec.param("r"),
        Some(max),
        "clamped to the range"
    );
    assert!(!set(&mut s, f32::NAN));
    assert!(!s.apply(PipelineAction::SetParam {
        id,
        param: "nope".into(),
        value: 1.0
    }));
    assert!(s.apply(PipelineAction::ResetParams(id)));
    assert_eq!(
        s.spec().filters[0],
        filters::FilterSpec::new("blur").unwrap()
    );
    assert!(
        !s.apply(PipelineAction::ResetParams(id)),
        "already at defaults"
    );
}

#[wasm_bindgen_test]
fn clear_replace_and_the_limit() {
    let mut s = state("grayscale");
    assert!(s.apply(PipelineAction::Clear));
    assert!(!s.apply(PipelineAction::Clear));
    assert!(s.is_empty());
    for _ in 0..MAX_FILTERS {
        assert!(s.apply(PipelineAction::Add("invert".into())));
    }
    assert!(s.is_full());
    assert!(
        !s.apply(PipelineAction::Add("invert".into())),
        "at most {MAX_FILTERS}"
    );
    assert!(s.apply(PipelineAction::Replace("sepia|mirror".parse().unwrap())));
    assert_eq!(names(&s), "sepia|mirror");
}

#[wasm_bindgen_test]
fn reducer_keeps_the_same_state_when_nothing_changes() {
    let s = Rc::new(state("grayscale"));
    let same = Rc::clone(&s).reduce(PipelineAction::Remove(12345));
    assert!(Rc::ptr_eq(&s, &same));
    let changed = Rc::clone(&s).reduce(PipelineAction::Add("sobel".into()));
    assert!(!Rc::ptr_eq(&s, &changed));
    assert_eq!(names(&changed), "grayscale|sobel");
}
