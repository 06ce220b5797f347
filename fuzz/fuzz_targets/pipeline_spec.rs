//! The pipeline text form (`grayscale|blur:r=3|canny:lo=40,hi=90`) that links and the viewer
//! carry: parsing never panics, every accepted parameter is within its catalog range, and the
//! canonical text of an accepted pipeline parses back to the same pipeline (and prints the
//! same), as `filters/tests/spec.rs` has it for generated pipelines.
#![no_main]

use filters::{
    PipelineSpec,
    spec::{MAX_FILTERS, MAX_SPEC_LEN},
};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let spec = match text.parse::<PipelineSpec>() {
        Ok(spec) => spec,
        Err(err) => {
            // Errors are shown to people: formatting them must not panic either.
            assert!(!err.to_string().is_empty());
            return;
        }
    };
    assert!(text.len() <= MAX_SPEC_LEN);
    assert!(spec.filters.len() <= MAX_FILTERS);
    for filter in &spec.filters {
        for (info, (name, value)) in filter.info().params.iter().zip(filter.params()) {
            assert_eq!(info.name, name);
            assert!(
                value >= info.min && value <= info.max,
                "{}: {name}={value} outside {}..={}",
                filter.name(),
                info.min,
                info.max
            );
        }
    }

    let canonical = spec.to_string();
    let again = canonical.parse::<PipelineSpec>().unwrap_or_else(|err| {
        panic!(
            "{text:?} parses, but its canonical text ({} bytes) does not: {err}\n{canonical:?}",
            canonical.len()
        )
    });
    assert_eq!(again, spec, "{text:?} -> {canonical:?}");
    assert_eq!(again.to_string(), canonical);
});
