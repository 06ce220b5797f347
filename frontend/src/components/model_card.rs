//! The `model` stage's part of its filter card ("your own model"): a file picker for the
//! `.onnx` file (dropping the file on the card works too) and where the model stands:
//! waiting for a file, loading, its ms per inference (and whether that keeps up with the
//! source), or why it cannot run. The file stays on the device: a link names the stage
//! but cannot carry the model, so the card asks for it.

use wasm_bindgen::JsCast;
use web_sys::HtmlInputElement;
use yew::prelude::*;

use crate::frame_loop::OwnModelState;

/// A model file picked on this page.
#[derive(Clone, Debug, PartialEq)]
pub struct Picked {
    pub name: String,
    /// Why it was not sent to the worker (too large, no worker).
    pub error: Option<String>,
}

/// Everything the card shows about the user's model.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct OwnModelView {
    pub picked: Option<Picked>,
    /// What the filter worker last said (`None`: no source runs, or no stats yet).
    pub state: Option<OwnModelState>,
    /// Frames per second the source delivers (0: unknown), for "too slow".
    pub fps: f64,
}

/// Largest file the page sends on (the model worker checks again).
pub const MAX_MODEL_BYTES: f64 = segment::model::MAX_MODEL_BYTES as f64;

/// Why `size` bytes called `name` are refused before being read, if they are.
pub fn too_large(name: &str, size: f64) -> Option<String> {
    (size > MAX_MODEL_BYTES).then(|| {
        format!(
            "{name} is too large: {:.1} MB, at most {:.0} MB",
            size / 1_048_576.0,
            MAX_MODEL_BYTES / 1_048_576.0
        )
    })
}

/// The status line: `(class, text, is_error)`.
fn status(view: &OwnModelView) -> (&'static str, String, bool) {
    const PASS: &str = "frames pass unchanged";
    if let Some(Picked {
        error: Some(error), ..
    }) = &view.picked
    {
        return ("failed", format!("not running: {error}"), true);
    }
    let picked = view.picked.as_ref().map(|p| p.name.as_str());
    match (&view.state, picked) {
        (Some(OwnModelState::Failed { reason, .. }), _) => {
            ("failed", format!("not running: {reason}"), true)
        }
        (Some(OwnModelState::Loading { name }), _) => {
            ("loading", format!("loading {name}… ({PASS})"), false)
        }
        // Picked, and the worker has not said anything newer yet.
        (None | Some(OwnModelState::NeedsFile), Some(name)) => {
            ("loading", format!("loading {name}… ({PASS})"), false)
        }
        (Some(OwnModelState::Running { name, ms: None }), _) => {
            ("loading", format!("{name} loaded, first inference…"), false)
        }
        (Some(OwnModelState::Running { name, ms: Some(ms) }), _) => {
            let frame_ms = if view.fps > 0.0 {
                1000.0 / view.fps
            } else {
                0.0
            };
            if frame_ms > 0.0 && *ms > frame_ms {
                (
                    "slow",
                    format!(
                        "{name}: too slow, {ms:.1} ms per inference for a frame every \
                         {frame_ms:.0} ms"
                    ),
                    false,
                )
            } else {
                (
                    "running",
                    format!("{name}: {ms:.1} ms per inference"),
                    false,
                )
            }
        }
        _ => (
            "needs-file",
            format!(
                "Pick your .onnx model: a link names this stage but cannot carry the model, \
                 which stays on your device ({PASS} until then)."
            ),
            false,
        ),
    }
}

#[derive(PartialEq, Properties)]
pub struct ModelCardProps {
    /// The card's id, for the input's id.
    pub id: u32,
    pub view: OwnModelView,
    pub on_pick: Callback<web_sys::File>,
}

#[function_component]
pub fn ModelCard(props: &ModelCardProps) -> Html {
    let input_id = format!("f{}-model-file", props.id);
    let onchange = {
        let on_pick = props.on_pick.clone();
        Callback::from(move |event: Event| {
            let input = event
                .target()
                .and_then(|target| target.dyn_into::<HtmlInputElement>().ok());
            if let Some(file) = input.and_then(|i| i.files()).and_then(|files| files.get(0)) {
                on_pick.emit(file);
            }
        })
    };
    let (class, text, error) = status(&props.view);
    let line = if error {
        html! { <p class="filter-status failed model-status" role="alert" data-state={class}>{ text }</p> }
    } else {
        html! { <p class={classes!("filter-status", class, "model-status")} role="status" data-state={class}>{ text }</p> }
    };
    html! {
        <div class="model-pick">
            <input id={input_id} class="model-file" type="file" accept=".onnx"
                aria-label="Your ONNX model file" {onchange} />
            <p class="hint">{ "or drop it on this card; it never leaves this device" }</p>
            { line }
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_bindgen_test::wasm_bindgen_test;

    fn view(picked: Option<&str>, state: Option<OwnModelState>, fps: f64) -> OwnModelView {
        OwnModelView {
            picked: picked.map(|name| Picked {
                name: name.to_owned(),
                error: None,
            }),
            state,
            fps,
        }
    }

    #[wasm_bindgen_test]
    fn the_card_says_where_the_model_stands() {
        let (class, text, _) = status(&view(None, Some(OwnModelState::NeedsFile), 30.0));
        assert_eq!(class, "needs-file");
        assert!(text.starts_with("Pick your .onnx model"), "{text}");
        assert_eq!(status(&view(None, None, 0.0)).0, "needs-file");
        let (class, text, _) = status(&view(Some("a.onnx"), Some(OwnModelState::NeedsFile), 30.0));
        assert_eq!(
            (class, text.as_str()),
            ("loading", "loading a.onnx… (frames pass unchanged)")
        );
        let running = |ms| OwnModelState::Running {
            name: "a.onnx".into(),
            ms,
        };
        assert_eq!(
            status(&view(Some("a.onnx"), Some(running(None)), 30.0)).0,
            "loading"
        );
        let (class, text, _) = status(&view(Some("a.onnx"), Some(running(Some(4.25))), 30.0));
        assert_eq!(
            (class, text.as_str()),
            ("running", "a.onnx: 4.2 ms per inference")
        );
        let (class, text, _) = status(&view(Some("a.onnx"), Some(running(Some(80.0))), 30.0));
        assert_eq!(class, "slow");
        assert!(
            text.contains("too slow, 80.0 ms per inference for a frame every 33 ms"),
            "{text}"
        );
        let failed = OwnModelState::Failed {
            name: "a.onnx".into(),
            reason: "unsupported operator FancyOp".into(),
        };
        let (class, text, error) = status(&view(Some("a.onnx"), Some(failed), 30.0));
        assert_eq!((class, error), ("failed", true));
        assert_eq!(text, "not running: unsupported operator FancyOp");
    }

    #[wasm_bindgen_test]
    fn a_file_over_the_limit_is_refused_before_it_is_read() {
        assert_eq!(too_large("a.onnx", MAX_MODEL_BYTES), None);
        let err = too_large("big.onnx", MAX_MODEL_BYTES + 1.0).unwrap();
        assert_eq!(err, "big.onnx is too large: 50.0 MB, at most 50 MB");
    }
}
