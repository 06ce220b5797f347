//! `use_cameras`: the list of cameras, refreshed when devices change and whenever `refresh`
//! changes (labels only appear after the user has allowed camera access).

use gloo::events::EventListener;
use wasm_bindgen_futures::spawn_local;
use yew::prelude::*;

use crate::media::camera::{self, CameraInfo};

#[hook]
pub fn use_cameras(refresh: u32) -> UseStateHandle<Vec<CameraInfo>> {
    let cameras = use_state(Vec::new);
    {
        let cameras = cameras.clone();
        use_effect_with(refresh, move |_| {
            let load = {
                let cameras = cameras.clone();
                move || {
                    let cameras = cameras.clone();
                    spawn_local(async move { cameras.set(camera::list().await) });
                }
            };
            load();
            let listener = camera::media_devices()
                .ok()
                .map(|devices| EventListener::new(&devices, "devicechange", move |_| load()));
            move || drop(listener)
        });
    }
    cameras
}
