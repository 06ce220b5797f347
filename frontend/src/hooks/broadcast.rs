//! `use_broadcast`: the broadcast panel's state and lifecycles. While the user broadcasts,
//! a room is requested from the server (retrying with backoff) and a [`Publisher`] runs for
//! it, fed by the frame tap. Each lives in an effect whose destructor closes the socket
//! and cancels the timers, so stopping, a new room or unmounting leaves nothing behind.
//!
//! Whether the user broadcasts is kept in sessionStorage with the room, so a reload (or a
//! restored tab) resumes into the same room, with the same viewer link; only "Stop
//! broadcast" clears it. "New link" and "Stop broadcast, end room" end the old room on the
//! server, so its viewers are told the broadcast has ended instead of waiting on "paused".

use std::{
    cell::{Cell, RefCell},
    rc::Rc,
};

use gloo::timers::callback::Timeout;
use wasm_bindgen_futures::spawn_local;
use yew::prelude::*;

use crate::{
    broadcast::{
        Settings, backoff,
        publisher::{PublisherEvents, Status},
        room::Room,
    },
    frame_tap::FrameTap,
    worker::remote::start_publisher,
};

/// What the panel shows and the actions it offers.
#[derive(Clone, PartialEq)]
pub struct BroadcastHandle {
    /// The user's settings, kept in sessionStorage.
    pub settings: Settings,
    /// The user wants to broadcast (the room or the socket may still be on their way).
    pub active: bool,
    pub room: Option<Room>,
    /// The viewer link of `room` on this page's origin.
    pub link: Option<String>,
    pub status: Status,
    /// Something to tell the user about the room: a new link, a lost room, a failed request.
    pub notice: Option<String>,
    /// Starts or stops broadcasting.
    pub toggle: Callback<()>,
    /// Replaces the room, so the old link stops showing this broadcast.
    pub new_link: Callback<()>,
    /// Stops broadcasting and ends the room: its viewers see that the broadcast has ended.
    pub end_room: Callback<()>,
    /// Applies from the next frame, without a reconnect.
    pub set_settings: Callback<Settings>,
}

fn origin() -> String {
    web_sys::window()
        .and_then(|w| w.location().origin().ok())
        .unwrap_or_default()
}

fn query() -> String {
    web_sys::window()
        .and_then(|w| w.location().search().ok())
        .unwrap_or_default()
}

/// Broadcasts the frames of `tap` while the user wants to; with `autostart`, begins by
/// itself the first time `source_running` is true.
#[hook]
pub fn use_broadcast(tap: FrameTap, autostart: bool, source_running: bool) -> BroadcastHandle {
    let settings = use_state(|| Settings::load(&query()));
    // The publisher reads the settings from here on every frame: no reconnect on change.
    let shared = use_mut_ref(|| (*settings).clone());
    let active = use_state(Room::was_broadcasting);
    let room = use_state(Room::load);
    let status = use_state(Status::default);
    let notice = use_state(|| None::<String>);
    let autostarted = use_mut_ref(|| false);

    {
        let shared = shared.clone();
        use_effect_with((*settings).clone(), move |s| {
            s.save();
            *shared.borrow_mut() = s.clone();
        });
    }

    {
        let active = active.clone();
        use_effect_with((autostart, source_running), move |&(auto, running)| {
            if auto && running && !*autostarted.borrow() {
                *autostarted.borrow_mut() = true;
                Room::remember_broadcasting(true);
                active.set(true);
            }
        });
    }

    // Broadcasting without a room: ask the server for one, retrying with backoff
    // (the server may be restarting).
    {
        let room = room.clone();
        let notice = notice.clone();
        use_effect_with((*active, room.is_none()), move |&(active, missing)| {
            let pending: Rc<RefCell<Option<Timeout>>> = Rc::default();
            let alive = Rc::new(Cell::new(true));
            if active && missing {
                create_room(room, notice, pending.clone(), alive.clone(), 0);
            }
            move || {
                alive.set(false);
                pending.borrow_mut().take();
            }
        });
    }

    // The live publisher: one per (active, room); the tap feeds it frames.
    {
        let status = status.clone();
        let room_handle = room.clone();
        let notice = notice.clone();
        use_effect_with((*active, (*room).clone()), move |(active, room)| {
            let publisher = match (active, room) {
                (true, Some(room)) => {
                    let events = PublisherEvents {
                        on_status: Callback::from(move |s| status.set(s)),
                        on_room_lost: Callback::from(move |()| {
                            Room::forget();
                            notice.set(Some(
                                "The server lost the room (restarted?): here is a new link.".into(),
                            ));
                            room_handle.set(None);
                        }),
                    };
                    Some(start_publisher(
                        &tap,
                        room.clone(),
                        origin(),
                        shared,
                        events,
                    ))
                }
                _ => None,
            };
            move || {
                if let Some(publisher) = publisher {
                    publisher.stop();
                }
            }
        });
    }

    let toggle = {
        let active = active.clone();
        let status = status.clone();
        let notice = notice.clone();
        Callback::from(move |()| {
            if *active {
                status.set(Status::default());
            }
            notice.set(None);
            Room::remember_broadcasting(!*active);
            active.set(!*active);
        })
    };

    let end_room = {
        let active = active.clone();
        let room = room.clone();
        let status = status.clone();
        let notice = notice.clone();
        Callback::from(move |()| {
            Room::remember_broadcasting(false);
            Room::forget();
            status.set(Status::default());
            active.set(false);
            let Some(old) = (*room).clone() else {
                return;
            };
            room.set(None);
            let notice = notice.clone();
            spawn_local(async move {
                notice.set(Some(match old.end().await {
                    Ok(()) => "Room ended: its viewers see that the broadcast has ended.".into(),
                    Err(e) => format!("Stopped, but the room could not be ended: {e}"),
                }));
            });
        })
    };

    let new_link = {
        let room = room.clone();
        let notice = notice.clone();
        Callback::from(move |()| {
            let old = (*room).clone();
            Room::forget();
            let (room, notice) = (room.clone(), notice.clone());
            spawn_local(async move {
                match Room::create().await {
                    Ok(new) => {
                        new.save();
                        // The publisher moves to the new room first; then the old one is
                        // ended, so its viewers are told instead of waiting on "paused".
                        room.set(Some(new));
                        let ended = match old {
                            Some(old) => old.end().await,
                            None => Ok(()),
                        };
                        notice.set(Some(match ended {
                            Ok(()) => {
                                "New link: viewers of the old one see that the broadcast has ended."
                                    .into()
                            }
                            Err(e) => format!("New link, but the old room could not be ended: {e}"),
                        }));
                    }
                    Err(e) => notice.set(Some(e.to_string())),
                }
            });
        })
    };

    let set_settings = {
        let settings = settings.clone();
        Callback::from(move |next| settings.set(next))
    };

    BroadcastHandle {
        settings: (*settings).clone(),
        active: *active,
        link: room.as_ref().map(|r| r.share_link(&origin())),
        room: (*room).clone(),
        status: (*status).clone(),
        notice: (*notice).clone(),
        toggle,
        new_link,
        end_room,
        set_settings,
    }
}

/// Creates a room, retrying with backoff until the effect that asked is torn down.
fn create_room(
    room: UseStateHandle<Option<Room>>,
    notice: UseStateHandle<Option<String>>,
    pending: Rc<RefCell<Option<Timeout>>>,
    alive: Rc<Cell<bool>>,
    attempt: u32,
) {
    spawn_local(async move {
        let result = Room::create().await;
        if !alive.get() {
            return;
        }
        match result {
            Ok(new) => {
                new.save();
                room.set(Some(new));
            }
            Err(e) => {
                let delay = backoff::delay_ms(attempt, js_sys::Math::random());
                notice.set(Some(format!("{e} — retrying in {:.1} s", delay / 1000.0)));
                let next = pending.clone();
                *pending.borrow_mut() = Some(Timeout::new(delay as u32, move || {
                    create_room(room, notice, next, alive, attempt.saturating_add(1));
                }));
            }
        }
    });
}
