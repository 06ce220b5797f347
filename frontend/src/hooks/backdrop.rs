//! `use_backdrop`: the picture the user picked for `segment-replace`, decoded from the
//! file, and the [`BackdropChoice`] the cards show. A later pick (or going back to the
//! colour) wins over a slower read of an earlier file.

use std::rc::Rc;

use wasm_bindgen_futures::spawn_local;
use yew::prelude::*;

use crate::{
    components::backdrop_picker::BackdropChoice,
    frame_loop::backdrop::{Picture, decode},
};

#[hook]
pub fn use_backdrop() -> (Option<Picture>, BackdropChoice) {
    let picture = use_state(|| None::<Picture>);
    let name = use_state(|| None::<String>);
    let reading = use_state(|| false);
    let error = use_state(|| None::<String>);
    // Counts picks and clears: a read that finishes after a newer one started is dropped.
    let picks = use_mut_ref(|| 0_u64);

    let on_pick = {
        let (picture, name, reading, error) = (
            picture.clone(),
            name.clone(),
            reading.clone(),
            error.clone(),
        );
        let picks = Rc::clone(&picks);
        Callback::from(move |file: web_sys::File| {
            *picks.borrow_mut() += 1;
            let this = *picks.borrow();
            reading.set(true);
            error.set(None);
            let (picture, name, reading, error, picks) = (
                picture.clone(),
                name.clone(),
                reading.clone(),
                error.clone(),
                Rc::clone(&picks),
            );
            spawn_local(async move {
                let decoded = decode(&file).await;
                if *picks.borrow() != this {
                    return;
                }
                reading.set(false);
                match decoded {
                    Ok(decoded) => {
                        picture.set(Some(decoded));
                        name.set(Some(file.name()));
                    }
                    Err(reason) => error.set(Some(format!("{}: {reason}", file.name()))),
                }
            });
        })
    };
    let on_clear = {
        let (picture, name, reading, error) = (
            picture.clone(),
            name.clone(),
            reading.clone(),
            error.clone(),
        );
        Callback::from(move |()| {
            *picks.borrow_mut() += 1;
            picture.set(None);
            name.set(None);
            reading.set(false);
            error.set(None);
        })
    };
    let choice = BackdropChoice {
        name: (*name).clone(),
        reading: *reading,
        error: (*error).clone(),
        on_pick,
        on_clear,
    };
    ((*picture).clone(), choice)
}
