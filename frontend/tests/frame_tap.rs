//! The frame loop's hand-off to the broadcast encoder: one listener, replaceable and
//! removable, even from inside its own callback.

use std::{cell::Cell, rc::Rc};

use frontend::frame_tap::{FrameTap, ProcessedFrame};
use wasm_bindgen::JsCast;
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_browser);

fn emit(tap: &FrameTap, frame_number: u64) {
    let canvas: web_sys::HtmlCanvasElement = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.create_element("canvas").ok())
        .and_then(|e| e.dyn_into().ok())
        .expect("a browser document can create a canvas");
    let rgba = [7u8; 8]; // 2×1 RGBA
    tap.emit(&ProcessedFrame {
        rgba: &rgba,
        width: 2,
        height: 1,
        canvas: Some(&canvas),
        image: None,
        captured_at_ms: 0.0,
        frame_number,
    });
}

/// A listener that records the last frame number it saw.
fn recorder(seen: &Rc<Cell<u64>>) -> impl FnMut(&ProcessedFrame<'_>) + 'static {
    let seen = Rc::clone(seen);
    move |frame| {
        assert_eq!(frame.rgba.len(), (frame.width * frame.height * 4) as usize);
        seen.set(frame.frame_number);
    }
}

#[wasm_bindgen_test]
fn frames_reach_the_listener_until_cleared() {
    let tap = FrameTap::default();
    emit(&tap, 1); // no listener: nothing happens
    let seen = Rc::new(Cell::new(0));
    tap.set(recorder(&seen));
    assert!(tap.is_listening());
    emit(&tap, 2);
    assert_eq!(seen.get(), 2);
    tap.clear();
    emit(&tap, 3);
    assert_eq!(seen.get(), 2);
    assert!(!tap.is_listening());
}

#[wasm_bindgen_test]
fn a_listener_can_remove_itself() {
    let tap = FrameTap::default();
    let calls = Rc::new(Cell::new(0));
    let (tap2, calls2) = (tap.clone(), Rc::clone(&calls));
    tap.set(move |_| {
        calls2.set(calls2.get() + 1);
        tap2.clear();
    });
    emit(&tap, 1);
    emit(&tap, 2);
    assert_eq!(
        calls.get(),
        1,
        "cleared from inside its callback, it must not run again"
    );
    assert!(!tap.is_listening());
}

#[wasm_bindgen_test]
fn a_listener_can_replace_itself() {
    let tap = FrameTap::default();
    let seen = Rc::new(Cell::new(0));
    let (tap2, seen2) = (tap.clone(), Rc::clone(&seen));
    tap.set(move |_| tap2.set(recorder(&seen2)));
    emit(&tap, 1);
    assert_eq!(seen.get(), 0);
    emit(&tap, 5);
    assert_eq!(
        seen.get(),
        5,
        "the replacement, not the original, gets later frames"
    );
}

#[wasm_bindgen_test]
fn clones_share_one_slot() {
    let tap = FrameTap::default();
    let other = tap.clone();
    assert!(tap == other);
    assert!(tap != FrameTap::default());
    let seen = Rc::new(Cell::new(0));
    other.set(recorder(&seen));
    emit(&tap, 9);
    assert_eq!(seen.get(), 9);
}
