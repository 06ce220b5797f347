//! The page URL's query string (`?source=test&pipeline=grayscale|blur:r=2&start=1`): parsing
//! never panics, reports at most one problem per parameter (one in all for an overlong query)
//! in messages of bounded length, and the query written for the parsed state parses back to
//! the same state with no problems (as `frontend/tests/url_state.rs` has it for one state).
#![no_main]

use frontend::state::url::{MAX_QUERY_LEN, UrlState};
use libfuzzer_sys::fuzz_target;

/// A message quotes at most 64 characters of the link, plus at most the list of filter names.
const MAX_PROBLEM_CHARS: usize = 512;

fuzz_target!(|data: &[u8]| {
    let Ok(query) = std::str::from_utf8(data) else {
        return;
    };
    let parsed = UrlState::parse(query);

    let body = query.strip_prefix('?').unwrap_or(query);
    if body.len() > MAX_QUERY_LEN {
        assert_eq!(parsed.problems.len(), 1, "{:?}", parsed.problems);
        assert_eq!(parsed.state, UrlState::default());
    } else {
        let parameters = body.split('&').filter(|pair| !pair.is_empty()).count();
        assert!(parsed.problems.len() <= parameters, "{:?}", parsed.problems);
    }
    for problem in &parsed.problems {
        assert!(
            problem.chars().count() <= MAX_PROBLEM_CHARS,
            "{} characters: {problem}",
            problem.chars().count()
        );
    }

    let written = parsed.state.to_query();
    let again = UrlState::parse(&written);
    assert!(
        again.problems.is_empty(),
        "{query:?} -> {written:?}: {:?}",
        again.problems
    );
    assert_eq!(again.state, parsed.state, "{query:?} -> {written:?}");
    assert_eq!(again.state.to_query(), written);
});
