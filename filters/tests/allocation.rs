//! The steady state allocates nothing: after a warm-up frame, applying a pipeline with every
//! built-in filter (and a parameter change through `set_spec`... then one more warm-up) makes
//! no heap allocation. Counted by a wrapping global allocator.

mod common;

use std::{
    alloc::{GlobalAlloc, Layout, System},
    sync::atomic::{AtomicUsize, Ordering},
};

use common::{scene_frame, tests};
use filters::{Frame, MaskStatus, Pipeline, PipelineSpec, Segmenter, catalog};

struct Counting;

static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

// SAFETY: defers to the system allocator; only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: same contract as the caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// A segmenter with a fixed mask (left half person), so the `segment-*` stages run.
struct HalfPerson;

impl Segmenter for HalfPerson {
    fn input_size(&self) -> (u32, u32) {
        (16, 9)
    }
    fn segment(&mut self, _input: &[f32], mask: &mut [f32]) -> MaskStatus {
        for (i, m) in mask.iter_mut().enumerate() {
            *m = if i % 16 < 8 { 1.0 } else { 0.0 };
        }
        MaskStatus::Ready
    }
}

tests! {
    fn applying_a_warm_pipeline_allocates_nothing() {
        let (w, h) = (161, 97);
        let source = scene_frame(w, h, 5);
        let every: Vec<&str> = catalog().iter().map(|info| info.name).collect();
        let spec: PipelineSpec = every.join("|").parse().unwrap();
        let mut pipeline = Pipeline::new(spec);
        pipeline.set_segmenter(Some(Box::new(HalfPerson)));
        let mut data = source.clone();
        let mut labels = 0;
        for frame in 0..4 {
            data.copy_from_slice(&source);
            let before = ALLOCATIONS.load(Ordering::Relaxed);
            let mut view = Frame::new(&mut data, w, h).unwrap();
            pipeline.apply_observed(&mut view, &mut |_| labels += 1);
            let allocated = ALLOCATIONS.load(Ordering::Relaxed) - before;
            if frame > 0 {
                assert_eq!(allocated, 0, "frame {frame} allocated {allocated} times");
            }
        }
        assert!(labels > 0);
        assert_eq!(pipeline.segment_status(), Some(&MaskStatus::Ready));
    }
}
