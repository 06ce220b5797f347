//! What a new user trips on (issue 14), one test per item, through the real UI with
//! controls found by role and accessible name: switched-off filters in links, bad links,
//! reloading while broadcasting, ending rooms, "Start broadcast" before a source, the
//! layout at 1440×900 and on a phone, names for assistive technology, and seekable
//! recordings.

use e2e::share::share_link;
use std::time::Duration;

use anyhow::{Context, Result, bail, ensure};
use base64::Engine as _;
use e2e::{Browser, BrowserOptions, Server, a11y, artifacts_dir, mjpeg::MjpegReader, viewport};
use fantoccini::{elements::Element, key::Key};
use serde_json::{Value, json};

const WAIT: Duration = Duration::from_secs(20);

async fn launch(width: u32, height: u32) -> Result<Browser> {
    Browser::launch(&BrowserOptions::default().with_window(width, height)).await
}

/// Clicks through the page's own handler (the switch's checkbox is transparent over its knob).
async fn js_click(browser: &Browser, element: &Element) -> Result<()> {
    browser
        .eval(
            "arguments[0].click(); return true;",
            vec![serde_json::to_value(element)?],
        )
        .await
        .map(drop)
}

async fn click_role(browser: &Browser, role: &str, name: &str) -> Result<()> {
    let element = a11y::by_role(browser, role, name).await?;
    js_click(browser, &element).await
}

async fn wait_text(browser: &Browser, selector: &str, text: &str) -> Result<()> {
    let script = format!(
        "const e = document.querySelector({selector:?}); return !!e && e.textContent.trim() === {text:?};"
    );
    browser
        .wait_for(&format!("{selector} = {text}"), &script, WAIT)
        .await
        .map(drop)
}

fn room_of(link: &str) -> Result<String> {
    link.rsplit_once("/watch/")
        .map(|(_, room)| room.to_owned())
        .filter(|room| !room.is_empty())
        .with_context(|| format!("{link} is not a /watch/ link"))
}

async fn room_state(server: &Server, room: &str) -> Result<Value> {
    let url = server.url(&protocol::rooms::state_path(room));
    Ok(reqwest::get(&url).await?.json().await?)
}

/// Polls the room's state until `check` holds.
async fn wait_room(
    server: &Server,
    room: &str,
    what: &str,
    check: impl Fn(&Value) -> bool,
) -> Result<Value> {
    let deadline = std::time::Instant::now() + WAIT;
    loop {
        let state = room_state(server, room).await?;
        if check(&state) {
            return Ok(state);
        }
        if std::time::Instant::now() > deadline {
            bail!("room {room} never became {what}: {state}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn start_test_source_and_broadcast(browser: &Browser, server: &Server) -> Result<String> {
    browser
        .goto(&server.url("/?source=test&start=1&res=480"))
        .await?;
    browser.wait_for_frames(3, WAIT).await?;
    click_role(browser, "button", "Start broadcast").await?;
    share_link(browser, WAIT).await
}

#[tokio::test]
#[ignore = "needs the built frontend and Chromium: run cargo xtask test"]
async fn a_switched_off_filter_survives_the_link_and_a_reload() -> Result<()> {
    let server = Server::start().await?;
    let browser = launch(1280, 800).await?;
    browser
        .goto(&server.url("/?source=test&start=1&pipeline=grayscale|blur:r=7"))
        .await?;
    browser.wait_for_frames(3, WAIT).await?;
    click_role(&browser, "checkbox", "Enable Box blur").await?;
    wait_text(&browser, "#pipeline-text", "grayscale|!blur:r=7").await?;
    browser
        .wait_for(
            "the address bar keeps the switched-off filter",
            "return location.search.includes('pipeline=grayscale|!blur:r=7');",
            WAIT,
        )
        .await?;

    browser.client().refresh().await?;
    browser.wait_for_frames(3, WAIT).await?;
    wait_text(&browser, "#pipeline-text", "grayscale|!blur:r=7").await?;
    let switch = a11y::by_role(&browser, "checkbox", "Enable Box blur").await?;
    ensure!(
        !switch.is_selected().await?,
        "Box blur comes back switched off"
    );
    let radius = browser
        .eval(
            "return document.querySelector('[data-filter=blur] input[type=range]').value;",
            vec![],
        )
        .await?;
    ensure!(radius == "7", "and with its radius: {radius}");
    // It really is off: the frame loop runs grayscale alone.
    let stages = browser
        .wait_for(
            "the stage list",
            "const s = window.__lenscast_stats; return s && s.stages && s.stages.length ? s.stages.map(x => x.label) : null;",
            WAIT,
        )
        .await?;
    ensure!(
        stages == json!(["grayscale"]),
        "a switched-off filter does not run: {stages}"
    );
    browser.close().await?;
    Ok(())
}

#[tokio::test]
#[ignore = "needs the built frontend and Chromium: run cargo xtask test"]
async fn a_bad_link_keeps_its_valid_filters_and_names_every_bad_one() -> Result<()> {
    let server = Server::start().await?;
    let browser = launch(1280, 800).await?;
    browser
        .goto(&server.url("/?source=test&pipeline=grayscale|nonsense|grayscal|!blur:r=7"))
        .await?;
    let notice = browser
        .wait_for(
            "the notice",
            "const e = document.querySelector('#notices li'); return e ? e.textContent : null;",
            WAIT,
        )
        .await?;
    let notice = notice.as_str().unwrap_or_default();
    ensure!(
        notice.contains("nonsense"),
        "names the bad filter: {notice}"
    );
    ensure!(
        notice.contains("did you mean `grayscale`?"),
        "suggests the closest name for the typo: {notice}"
    );
    ensure!(
        !notice.contains("vignette"),
        "no list of every filter: {notice}"
    );
    ensure!(notice.contains("kept the other 2 filters"), "{notice}");
    wait_text(&browser, "#pipeline-text", "grayscale|!blur:r=7").await?;
    let items = browser
        .eval(
            "return document.querySelectorAll('#notices li').length;",
            vec![],
        )
        .await?;
    ensure!(items == 1, "one message: {items}");

    browser
        .goto(&server.url("/?pipeline=blur:r=999|nonsense"))
        .await?;
    let notice = browser
        .wait_for(
            "the notice",
            "const e = document.querySelector('#notices li'); return e ? e.textContent : null;",
            WAIT,
        )
        .await?;
    let notice = notice.as_str().unwrap_or_default();
    ensure!(
        notice.contains("r=999") && notice.contains("nonsense"),
        "every invalid stage is named: {notice}"
    );
    browser.close().await?;
    Ok(())
}

#[tokio::test]
#[ignore = "needs the built frontend and Chromium: run cargo xtask test"]
async fn reloading_the_broadcasting_tab_resumes_into_the_same_room() -> Result<()> {
    let server = Server::start().await?;
    let browser = launch(1280, 800).await?;
    let link = start_test_source_and_broadcast(&browser, &server).await?;
    let room = room_of(&link)?;
    wait_room(&server, &room, "live", |s| s["live"] == true).await?;

    browser.client().refresh().await?;
    browser.wait_for_frames(3, WAIT).await?;
    ensure!(
        share_link(&browser, WAIT).await? == link,
        "the same viewer link after a reload"
    );
    wait_text(&browser, "#broadcast", "Stop broadcast").await?;
    wait_room(&server, &room, "live again", |s| s["live"] == true).await?;
    // Frames flow to a viewer again, without any click.
    let mut viewer = MjpegReader::open(&server.url(&protocol::rooms::stream_path(&room))).await?;
    viewer
        .next_part(WAIT)
        .await
        .context("a frame after the reload")?;
    viewer
        .next_part(WAIT)
        .await
        .context("another frame after the reload")?;

    // Only "Stop broadcast" stops it, and a reload then stays stopped.
    click_role(&browser, "button", "Stop broadcast").await?;
    wait_room(&server, &room, "offline", |s| s["live"] == false).await?;
    browser.client().refresh().await?;
    browser.wait_for_frames(3, WAIT).await?;
    wait_text(&browser, "#broadcast", "Start broadcast").await?;
    tokio::time::sleep(Duration::from_secs(2)).await;
    ensure!(
        room_state(&server, &room).await?["live"] == false,
        "stays stopped"
    );
    browser.close().await?;
    Ok(())
}

#[tokio::test]
#[ignore = "needs the built frontend and Chromium: run cargo xtask test"]
async fn ended_and_replaced_rooms_tell_their_viewers() -> Result<()> {
    let server = Server::start().await?;
    let browser = launch(1280, 800).await?;
    let first = start_test_source_and_broadcast(&browser, &server).await?;
    let first_room = room_of(&first)?;
    let mut viewer =
        MjpegReader::open(&server.url(&protocol::rooms::stream_path(&first_room))).await?;
    viewer
        .next_part(WAIT)
        .await
        .context("a frame of the first room")?;

    // "New link": the old room ends, its viewer's stream ends, the broadcast moves on.
    click_role(&browser, "button", "New link").await?;
    let second = browser
        .wait_for(
            "a new link",
            &format!(
                "const e = document.querySelector('#share-link'); const t = e ? e.textContent.trim() : ''; return t && t !== {first:?} ? t : null;"
            ),
            WAIT,
        )
        .await?;
    let second_room = room_of(second.as_str().unwrap_or_default())?;
    wait_room(&server, &first_room, "ended", |s| {
        s["ended"] == true && s["live"] == false
    })
    .await?;
    let end = loop {
        match viewer.next_part(WAIT).await {
            Ok(_) => {}
            Err(err) => break err,
        }
    };
    ensure!(
        end.to_string().contains("ended"),
        "the old link's stream ends: {end:#}"
    );
    wait_room(&server, &second_room, "live", |s| s["live"] == true).await?;

    // The old link's page says so.
    let watcher = launch(960, 600).await?;
    watcher.goto(&first).await?;
    watcher
        .wait_for(
            "the ended message",
            "return document.querySelector('#stage').dataset.state === 'ended'
                && document.querySelector('#message-title').textContent === 'The broadcast has ended'
                && document.querySelector('#status-text').textContent === 'Ended';",
            WAIT,
        )
        .await?;
    watcher.screenshot("new-user-viewer-ended").await?;

    // "Stop broadcast, end room" ends the current one too.
    click_role(&browser, "button", "Stop broadcast, end room").await?;
    wait_room(&server, &second_room, "ended", |s| {
        s["ended"] == true && s["live"] == false
    })
    .await?;
    wait_text(&browser, "#broadcast", "Start broadcast").await?;
    let link_left = browser
        .eval("return !!document.querySelector('#share-link');", vec![])
        .await?;
    ensure!(link_left == false, "no link to an ended room is offered");

    // An unknown room only says it does not exist: no badge at all.
    watcher
        .goto(&server.url(&format!("/watch/{}", "A".repeat(32))))
        .await?;
    watcher
        .wait_for(
            "the unknown-room message",
            "return document.querySelector('#message-title').textContent === 'This room does not exist';",
            WAIT,
        )
        .await?;
    let badge = watcher
        .eval(
            "return getComputedStyle(document.querySelector('#status')).display;",
            vec![],
        )
        .await?;
    ensure!(badge == "none", "no badge for an unknown room: {badge}");
    let text = watcher.page_text().await?;
    ensure!(!text.contains("Ended") && !text.contains("ENDED"), "{text}");
    watcher.screenshot("new-user-viewer-unknown").await?;
    watcher.close().await?;
    browser.close().await?;
    Ok(())
}

#[tokio::test]
#[ignore = "needs the built frontend and Chromium: run cargo xtask test"]
async fn start_broadcast_waits_for_a_source_and_says_why() -> Result<()> {
    let server = Server::start().await?;
    let browser = launch(1280, 800).await?;
    browser.goto(&server.url("/?source=test")).await?;
    let button = a11y::by_role(&browser, "button", "Start broadcast").await?;
    ensure!(!button.is_enabled().await?, "disabled before a source runs");
    let title = button.attr("title").await?.unwrap_or_default();
    ensure!(
        title.starts_with("Start a source first"),
        "reason on hover: {title}"
    );
    let described_by = button
        .attr("aria-describedby")
        .await?
        .context("aria-describedby")?;
    let description = browser
        .eval(
            "const e = document.getElementById(arguments[0]); return e ? e.textContent : null;",
            vec![json!(described_by)],
        )
        .await?;
    ensure!(
        description.as_str() == Some(title.as_str()),
        "the same reason for screen readers: {description}"
    );

    click_role(&browser, "button", "Start").await?;
    browser.wait_for_frames(3, WAIT).await?;
    browser
        .wait_for(
            "Start broadcast enabled",
            "const b = document.querySelector('#broadcast'); return !!b && !b.disabled && !b.hasAttribute('aria-describedby');",
            WAIT,
        )
        .await?;
    browser.close().await?;
    Ok(())
}

/// Whether the element is entirely in the viewport and no scroll container above it is
/// scrolled: reachable without scrolling.
const IN_VIEW: &str = "
    const e = document.querySelector(arguments[0]);
    if (!e) return 'missing';
    const r = e.getBoundingClientRect();
    if (r.width === 0 || r.height === 0) return 'not shown';
    if (r.top < 0 || r.left < 0 || r.bottom > innerHeight || r.right > innerWidth)
        return `outside the ${innerWidth}x${innerHeight} viewport: ${JSON.stringify(r)}`;
    for (let p = e.parentElement; p; p = p.parentElement) {
        if (p.scrollTop !== 0) return `scrolled: ${p.className}`;
    }
    return 'ok';";

#[tokio::test]
#[ignore = "needs the built frontend and Chromium: run cargo xtask test"]
async fn broadcast_is_in_view_names_are_whole_and_the_phone_toolbar_is_one_row() -> Result<()> {
    let server = Server::start().await?;
    let desktop = launch(1440, 1000).await?;
    viewport::set(&desktop, 1440, 900, false).await?;
    desktop
        .goto(&server.url(
            "/?source=test&start=1&pipeline=gaussian|canny|grayscale|segment-replace:color=00ff00",
        ))
        .await?;
    desktop.wait_for_frames(3, WAIT).await?;
    click_role(&desktop, "button", "Start broadcast").await?;
    share_link(&desktop, WAIT).await?;
    let size = desktop
        .eval("return [innerWidth, innerHeight];", vec![])
        .await?;
    ensure!(size == json!([1440, 900]), "viewport {size}");
    for selector in [
        "#broadcast",
        "#share-link",
        ".bc-qr",
        "#new-link",
        "#end-room",
    ] {
        let verdict = desktop.eval(IN_VIEW, vec![json!(selector)]).await?;
        ensure!(verdict == "ok", "{selector}: {verdict}");
    }
    let names = desktop
        .eval(
            // `split`: a word laid out on two lines (one client rect per line it touches).
            "return [...document.querySelectorAll('.filter-name')].map(e => {
                const text = e.textContent, node = e.firstChild, range = document.createRange();
                let at = 0, split = [];
                for (const word of text.split(' ')) {
                    range.setStart(node, at); range.setEnd(node, at + word.length);
                    if (range.getClientRects().length > 1) split.push(word);
                    at += word.length + 1;
                }
                return { text, split,
                    cut: e.scrollWidth > e.clientWidth + 1 || e.scrollHeight > e.clientHeight + 1 };
            });",
            vec![],
        )
        .await?;
    let expected = [
        "Gaussian blur",
        "Canny edges",
        "Grayscale",
        "Background colour",
    ];
    for (i, name) in expected.iter().enumerate() {
        ensure!(
            names[i]["text"] == *name && names[i]["cut"] == false,
            "{name} is cut: {names}"
        );
        ensure!(
            names[i]["split"] == json!([]),
            "a word of {name} is split: {names}"
        );
    }
    let shot = desktop.screenshot("new-user-desktop-1440x900").await?;
    eprintln!("desktop screenshot: {}", shot.display());
    desktop.close().await?;

    let phone = launch(500, 1000).await?;
    viewport::set(&phone, 390, 844, true).await?;
    phone.goto(&server.url("/")).await?;
    let placeholder = phone
        .wait_for(
            "the placeholder",
            "const e = document.querySelector('.placeholder'); return e ? e.textContent : null;",
            WAIT,
        )
        .await?;
    ensure!(
        !placeholder
            .as_str()
            .unwrap_or_default()
            .contains("on the left"),
        "the phone has nothing on the left: {placeholder}"
    );
    phone.screenshot("new-user-phone-390x844-idle").await?;
    phone
        .goto(&server.url("/?source=test&start=1&pipeline=grayscale"))
        .await?;
    phone.wait_for_frames(3, WAIT).await?;
    let rows = phone
        .eval(
            "const top = (s) => document.querySelector(s).getBoundingClientRect().top;
             return { width: innerWidth, compare: top('#compare'), record: top('#record'), snapshot: top('#snapshot') };",
            vec![],
        )
        .await?;
    let same_row = |a: &str, b: &str| {
        (rows[a].as_f64().unwrap_or(0.0) - rows[b].as_f64().unwrap_or(-99.0)).abs() < 4.0
    };
    ensure!(rows["width"] == 390, "a phone-sized page: {rows}");
    ensure!(
        same_row("compare", "record") && same_row("snapshot", "record"),
        "Record on the toolbar's row: {rows}"
    );
    let shot = phone.screenshot("new-user-phone-390x844").await?;
    eprintln!("phone screenshot: {}", shot.display());
    phone.close().await?;
    Ok(())
}

#[tokio::test]
#[ignore = "needs the built frontend and Chromium: run cargo xtask test"]
async fn controls_are_named_and_the_source_group_takes_arrow_keys() -> Result<()> {
    let server = Server::start().await?;
    let browser = launch(1280, 800).await?;
    browser
        .goto(&server.url("/?source=test&pipeline=grayscale|blur"))
        .await?;

    // The Source radio group: one Tab stop, arrows move the choice.
    a11y::by_role(&browser, "radio", "Test pattern").await?; // the app has rendered
    let radios = a11y::all_by_role(&browser, "radio", |_| true).await?;
    ensure!(
        radios.len() == 3,
        "three source radios, found {}",
        radios.len()
    );
    let stops = browser
        .eval("return [...document.querySelectorAll('[role=radio]')].filter(r => r.tabIndex === 0).map(r => r.id);", vec![])
        .await?;
    ensure!(
        stops == json!(["source-test"]),
        "one Tab stop, the checked radio: {stops}"
    );
    let test = a11y::by_role(&browser, "radio", "Test pattern").await?;
    browser
        .eval(
            "arguments[0].focus(); return true;",
            vec![serde_json::to_value(&test)?],
        )
        .await?;
    test.send_keys(&Key::Right.to_string()).await?;
    browser
        .wait_for(
            "Video file chosen and focused",
            "const f = document.querySelector('#source-file');
             return f.getAttribute('aria-checked') === 'true' && document.activeElement === f && f.tabIndex === 0;",
            WAIT,
        )
        .await?;
    // Each key goes to whatever has focus now (sending to an element would focus it first).
    for key in [Key::Left, Key::Left] {
        browser
            .client()
            .active_element()
            .await?
            .send_keys(&key.to_string())
            .await?;
    }
    browser
        .wait_for(
            "Camera chosen and focused",
            "const c = document.querySelector('#source-camera');
             return c.getAttribute('aria-checked') === 'true' && document.activeElement === c;",
            WAIT,
        )
        .await?;
    a11y::by_role(&browser, "radio", "Camera").await?;
    browser
        .client()
        .active_element()
        .await?
        .send_keys(&Key::Tab.to_string())
        .await?;
    let after_tab = browser
        .eval(
            "return document.activeElement.getAttribute('role');",
            vec![],
        )
        .await?;
    ensure!(after_tab != "radio", "Tab leaves the group: {after_tab}");

    // Order buttons and Remove name their filter.
    for name in [
        "Move Box blur up",
        "Move Grayscale down",
        "Remove Box blur",
        "Remove Grayscale",
    ] {
        a11y::by_role(&browser, "button", name).await?;
    }
    click_role(&browser, "button", "Move Box blur up").await?;
    wait_text(&browser, "#pipeline-text", "blur:r=3|grayscale").await?;

    // The Broadcast region and the QR code's name.
    browser
        .goto(&server.url("/?source=test&start=1&pipeline=grayscale"))
        .await?;
    browser.wait_for_frames(3, WAIT).await?;
    a11y::by_role(&browser, "region", "Broadcast").await?;
    click_role(&browser, "button", "Start broadcast").await?;
    let link = share_link(&browser, WAIT).await?;
    a11y::by_role(&browser, "img", "QR code of the viewer link").await?;

    // The viewer page's count has a label.
    let watcher = launch(960, 600).await?;
    watcher.goto(&link).await?;
    watcher
        .wait_for(
            "a viewer count",
            "return /^[0-9]+$/.test(document.querySelector('#viewer-count').textContent);",
            WAIT,
        )
        .await?;
    let counts = a11y::all_by_role(&watcher, "group", |name| name.starts_with("Viewers")).await?;
    ensure!(
        counts.len() == 1,
        "one labelled viewer count, found {}",
        counts.len()
    );
    watcher.close().await?;
    browser.close().await?;
    Ok(())
}

/// The first `f64` Duration (`44 89`, 8 bytes) in `webm`, in its timecode units (ms).
fn webm_duration(webm: &[u8]) -> Option<f64> {
    let at = webm.windows(3).position(|w| w == [0x44, 0x89, 0x88])?;
    let bytes: [u8; 8] = webm.get(at + 3..at + 11)?.try_into().ok()?;
    Some(f64::from_be_bytes(bytes))
}

#[tokio::test]
#[ignore = "needs the built frontend and Chromium: run cargo xtask test"]
async fn a_recording_has_its_duration_and_cues() -> Result<()> {
    let server = Server::start().await?;
    let browser = launch(1280, 800).await?;
    browser
        .goto(&server.url("/?source=test&start=1&res=480"))
        .await?;
    browser.wait_for_frames(5, WAIT).await?;
    browser
        .eval(
            "window.__webm = null;
             const create = URL.createObjectURL;
             URL.createObjectURL = (blob) => {
                 if (blob.type === 'video/webm') window.__webm = blob;
                 return create(blob);
             };
             HTMLAnchorElement.prototype.click = function () {};
             return true;",
            vec![],
        )
        .await?;
    click_role(&browser, "button", "Record").await?;
    browser
        .wait_for(
            "two seconds of recording",
            "return document.querySelector('#record').textContent.includes('00:03');",
            WAIT,
        )
        .await?;
    js_click(
        &browser,
        &browser
            .client()
            .find(fantoccini::Locator::Css("#record"))
            .await?,
    )
    .await?;
    browser
        .wait_for("the recording", "return !!window.__webm;", WAIT)
        .await?;
    let encoded: Value = browser
        .client()
        .execute_async(
            "const done = arguments[arguments.length - 1];
             const r = new FileReader();
             r.onload = () => done(r.result.split(',')[1]);
             r.readAsDataURL(window.__webm);",
            vec![],
        )
        .await?;
    let webm = base64::engine::general_purpose::STANDARD
        .decode(encoded.as_str().context("no recording bytes")?)?;
    let path = artifacts_dir()?.join("new-user-recording.webm");
    std::fs::write(&path, &webm)?;
    let duration = webm_duration(&webm).context("no Duration in the recording")?;
    ensure!(
        (2500.0..10_000.0).contains(&duration),
        "Duration {duration} ms for about three seconds"
    );
    ensure!(
        webm.windows(4).any(|w| w == [0x1C, 0x53, 0xBB, 0x6B]),
        "the recording has Cues"
    );
    // ffprobe, where it is installed, reads the same duration (it said N/A before).
    match std::process::Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-show_entries",
            "format=duration",
            "-of",
            "csv=p=0",
        ])
        .arg(&path)
        .output()
    {
        Ok(out) => {
            let text = String::from_utf8_lossy(&out.stdout).trim().to_owned();
            let seconds: f64 = text
                .parse()
                .with_context(|| format!("ffprobe says {text:?}"))?;
            ensure!(
                (seconds * 1000.0 - duration).abs() < 50.0,
                "ffprobe: {seconds} s, file: {duration} ms"
            );
        }
        Err(err) => eprintln!("ffprobe not run ({err}); checked the bytes only"),
    }
    browser.close().await?;
    Ok(())
}
