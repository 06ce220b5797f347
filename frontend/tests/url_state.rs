//! The page URL ⇄ state: valid links reproduce a setup, invalid ones give readable problems
//! and defaults, and formatting round-trips.

use frontend::state::{Resolution, SourceKind, UrlState, url::decode};
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen_test]
fn empty_query_is_the_default() {
    for query in ["", "?", "?&&"] {
        let parsed = UrlState::parse(query);
        assert_eq!(parsed.state, UrlState::default());
        assert!(parsed.problems.is_empty(), "{query}: {:?}", parsed.problems);
    }
}

#[wasm_bindgen_test]
fn full_link_is_understood() {
    let parsed = UrlState::parse(
        "?source=test&pipeline=grayscale|blur:r=3|sobel&start=1&broadcast=1&res=1080&fps=60",
    );
    assert!(parsed.problems.is_empty(), "{:?}", parsed.problems);
    let state = parsed.state;
    assert_eq!(state.source, SourceKind::Test);
    assert_eq!(state.pipeline, "grayscale|blur:r=3|sobel".parse().unwrap());
    assert!(state.start);
    assert!(state.broadcast);
    assert_eq!(state.resolution, Resolution::P1080);
    assert_eq!(state.fps, 60);
}

#[wasm_bindgen_test]
fn percent_encoded_pipeline_is_decoded() {
    let parsed = UrlState::parse("?pipeline=grayscale%7Cblur%3Ar%3D3&source=camera");
    assert!(parsed.problems.is_empty());
    assert_eq!(parsed.state.pipeline, "grayscale|blur:r=3".parse().unwrap());
    assert_eq!(decode("a+b%20c%zz%4"), "a b c%zz%4");
    assert_eq!(decode("%E2%9C%93"), "✓");
    assert_eq!(decode("%FF"), "\u{FFFD}");
}

#[wasm_bindgen_test]
fn invalid_values_become_problems_and_defaults() {
    let parsed = UrlState::parse(
        "?source=webcam&pipeline=grayscale|nope&start=maybe&broadcast=2&res=4k&fps=0&other=x",
    );
    assert_eq!(
        parsed.state.pipeline.to_string(),
        "grayscale",
        "valid filters stay"
    );
    assert_eq!(
        UrlState {
            pipeline: filters::PipelineSpec::default(),
            ..parsed.state
        },
        UrlState::default()
    );
    assert_eq!(parsed.problems.len(), 6, "{:#?}", parsed.problems);
    let all = parsed.problems.join("\n");
    for needle in ["webcam", "nope", "start=maybe", "broadcast=2", "4k", "“0”"] {
        assert!(all.contains(needle), "no problem mentions {needle}:\n{all}");
    }
}

#[wasm_bindgen_test]
fn out_of_range_parameter_is_explained() {
    let parsed = UrlState::parse("?pipeline=blur:r=999");
    assert!(parsed.state.pipeline.is_empty());
    assert!(
        parsed.problems[0].contains("r=999"),
        "{:?}",
        parsed.problems
    );
}

#[wasm_bindgen_test]
fn a_bad_pipeline_keeps_its_valid_filters_and_names_every_invalid_one() {
    let parsed = UrlState::parse("?pipeline=blur:r=999|nonsense");
    assert!(parsed.state.pipeline.is_empty());
    assert_eq!(
        parsed.problems.len(),
        1,
        "one message: {:?}",
        parsed.problems
    );
    let message = &parsed.problems[0];
    assert!(
        message.contains("r=999") && message.contains("nonsense"),
        "{message}"
    );

    let parsed = UrlState::parse("?pipeline=grayscale|nonsense|grayscal|!blur:r=7");
    assert_eq!(parsed.state.pipeline.to_string(), "grayscale|!blur:r=7");
    assert_eq!(parsed.problems.len(), 1, "{:?}", parsed.problems);
    let message = &parsed.problems[0];
    assert!(message.contains("nonsense"), "{message}");
    assert!(message.contains("did you mean `grayscale`?"), "{message}");
    assert!(
        !message.contains("vignette"),
        "no list of every filter: {message}"
    );
    assert!(message.chars().count() < 200, "short: {message}");
}

#[wasm_bindgen_test]
fn a_disabled_filter_round_trips_through_the_link() {
    let parsed = UrlState::parse("?pipeline=grayscale|!blur:r=7");
    assert!(parsed.problems.is_empty(), "{:?}", parsed.problems);
    assert!(!parsed.state.pipeline.filters[1].is_enabled());
    let query = parsed.state.to_query();
    assert!(query.contains("pipeline=grayscale|!blur:r=7"), "{query}");
    assert_eq!(UrlState::parse(&query).state, parsed.state);
}

#[wasm_bindgen_test]
fn overlong_query_is_refused_whole() {
    let query = format!("?source=test&pipeline={}", "grayscale|".repeat(1000));
    let parsed = UrlState::parse(&query);
    assert_eq!(parsed.state, UrlState::default());
    assert_eq!(parsed.problems.len(), 1);
}

#[wasm_bindgen_test]
fn user_text_in_messages_is_shortened() {
    let long = "x".repeat(500);
    let parsed = UrlState::parse(&format!("?source={long}"));
    assert!(
        parsed.problems[0].chars().count() < 200,
        "{}",
        parsed.problems[0]
    );
}

#[wasm_bindgen_test]
fn format_round_trips_and_stays_readable() {
    let state = UrlState {
        source: SourceKind::Test,
        pipeline: "grayscale|canny:lo=40,hi=90|vignette".parse().unwrap(),
        start: true,
        broadcast: true,
        resolution: Resolution::P480,
        fps: 24,
        worker: true,
    };
    let query = state.to_query();
    assert_eq!(
        query,
        format!(
            "?source=test&pipeline={}&res=480&fps=24&start=1&broadcast=1",
            state.pipeline
        ),
        "the pipeline text stays readable (no %7C, %3A, %3D)"
    );
    let parsed = UrlState::parse(&query);
    assert!(parsed.problems.is_empty());
    assert_eq!(parsed.state, state);
    assert_eq!(UrlState::default().to_query(), "?source=camera");
}

#[wasm_bindgen_test]
fn the_main_thread_path_stays_in_the_address() {
    let parsed = UrlState::parse("?source=test&start=1&worker=0");
    assert!(parsed.problems.is_empty(), "{:?}", parsed.problems);
    assert!(!parsed.state.worker);
    assert_eq!(parsed.state.to_query(), "?source=test&start=1&worker=0");
    assert!(UrlState::parse("?worker=1").state.worker);
    assert!(!UrlState::parse("?worker=maybe").problems.is_empty());
}
