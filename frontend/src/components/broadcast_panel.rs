//! Broadcast panel (placeholder until the broadcast work lands).

use yew::prelude::*;

use crate::frame_tap::FrameTap;

#[derive(PartialEq, Properties)]
pub struct BroadcastPanelProps {
    /// Processed frames from the frame loop.
    pub tap: FrameTap,
    /// `?broadcast=1`: start broadcasting as soon as the source runs.
    pub autostart: bool,
    /// Whether a source is running (frames are flowing into the tap).
    pub source_running: bool,
}

#[function_component]
pub fn BroadcastPanel(_props: &BroadcastPanelProps) -> Html {
    html! {
        <section class="panel broadcast">
            <h2>{ "Broadcast" }</h2>
            <button id="broadcast" disabled=true>{ "Broadcast" }</button>
        </section>
    }
}
