// lenscast viewer page. The <img> plays the MJPEG stream; the room-state API drives the
// badge, the viewer count and the messages. Polling never counts as a viewer: only the
// stream does. Room ids stay valid across server restarts, so this page never gives up on
// a room it once saw: while the server is unreachable it says "Reconnecting" and keeps
// polling, and whenever the stream has ended (or stalls while the room is live) it is
// reopened, so the picture comes back by itself when the server or the publisher does.
// Two states are final, and open no stream: a room its publisher ended ("The broadcast has
// ended") and an id the server does not know ("This room does not exist", no badge).
"use strict";

(() => {
  const $ = (id) => document.getElementById(id);
  const stage = $("stage");
  const img = $("stream");
  const statusBadge = $("status");
  const statusText = $("status-text");
  const viewerCount = $("viewer-count");
  const info = $("info");
  const title = $("message-title");
  const detail = $("message-detail");
  const toast = $("toast");
  const fullscreenBtn = $("fullscreen");
  const snapshotBtn = $("snapshot");

  const room = decodeURIComponent(location.pathname.split("/").filter(Boolean)[1] || "");
  const api = `/api/rooms/${encodeURIComponent(room)}`;
  const POLL_MS = 2000;
  const GONE_POLL_MS = 10000;
  const MAX_BACKOFF_MS = 8000;

  // A stream this young may not be counted by the server yet.
  const SETTLE_MS = 1500;
  // Live with new frames on the server, yet no new picture for this long: the stream is stuck.
  const STALL_MS = 2 * POLL_MS + 1000;

  let streamOpen = false; // an <img> request for the stream is in flight
  let openedAt = 0;
  let lastProgressAt = 0; // when the picture last changed (or a part arrived)
  let lastLook = ""; // a fingerprint of the picture at the previous poll
  let lastFrames = -1; // the room's frame counter at the previous poll
  let hasFrame = false;
  let failures = 0;
  let timer = 0;

  function setState(state, badge, text) {
    stage.dataset.state = state;
    statusBadge.dataset.kind = badge;
    statusText.textContent = text;
  }

  function say(heading, more = "") {
    title.textContent = heading;
    detail.textContent = more;
  }

  function openStream() {
    // A fresh URL forces a new connection even if the browser kept the old one around.
    img.src = `${api}/stream.mjpg?t=${Date.now()}`;
    streamOpen = true;
    openedAt = Date.now();
    lastProgressAt = openedAt;
  }

  // Soon, not at the next regular poll: a stream that just ended should come back quickly.
  function pollSoon(ms = 300) {
    clearTimeout(timer);
    timer = setTimeout(poll, ms);
  }

  function closeStream() {
    if (streamOpen) {
      img.removeAttribute("src");
      streamOpen = false;
    }
  }

  // An error ends the stream. A stream that ends cleanly or silently fires nothing in
  // Chrome (and "load" fires for the first part in Chrome, for every part in Firefox), so
  // the polls below also check that the stream is still alive.
  img.addEventListener("error", () => {
    if (!streamOpen) return;
    closeStream();
    // A stream refused at once (e.g. the room is full) waits for the regular poll, so a
    // refusal never turns into a tight retry loop.
    if (Date.now() - openedAt > SETTLE_MS) pollSoon();
  });
  img.addEventListener("load", () => {
    if (img.naturalWidth > 0) {
      hasFrame = true;
      stage.dataset.hasFrame = "";
    }
    lastProgressAt = Date.now();
  });

  // A tiny fingerprint of the picture on screen, to see whether it still changes.
  const probe = document.createElement("canvas");
  probe.width = 8;
  probe.height = 6;
  const probeCtx = probe.getContext("2d", { willReadFrequently: true });
  function pictureLook() {
    if (!img.naturalWidth || !probeCtx) return "";
    try {
      probeCtx.drawImage(img, 0, 0, probe.width, probe.height);
      return probeCtx.getImageData(0, 0, probe.width, probe.height).data.join(",");
    } catch (_) {
      return "";
    }
  }

  // Whether the open stream is dead though no event said so. `s` is the room's state now.
  function streamIsDead(s) {
    const now = Date.now();
    const look = pictureLook();
    if (look !== lastLook) lastProgressAt = now;
    lastLook = look;
    if (now - openedAt < SETTLE_MS) return false;
    // The room's frame counter went back: the server restarted since this stream opened.
    if (lastFrames >= 0 && s.frames < lastFrames) return true;
    // A live stream is a viewer; none counted means ours is gone (the publisher would
    // also send nothing to a room without viewers, so this must not wait for frames).
    if (s.viewers === 0) return true;
    // Live and the server has new frames, but the picture has not changed for a while.
    const advanced = lastFrames >= 0 && s.frames > lastFrames;
    return s.live && advanced && now - lastProgressAt > STALL_MS;
  }

  function formatInfo(s) {
    if (!s.live || !s.width) return "";
    const fps = s.fps ? ` · ${Math.round(s.fps)} fps` : "";
    return `${s.width}×${s.height}${fps}`;
  }

  function show(s) {
    viewerCount.textContent = String(s.viewers);
    viewerCount.parentElement.setAttribute("aria-label", `Viewers: ${s.viewers}`);
    viewerCount.parentElement.title = `${s.viewers} watching now`;
    info.textContent = formatInfo(s);
    if (s.frames > 0) {
      hasFrame = true;
      stage.dataset.hasFrame = "";
    }
    if (s.ended) {
      setState("ended", "ended", "Ended");
      say("The broadcast has ended", "Whoever was broadcasting ended it. Ask them for a new link to watch again.");
    } else if (s.live) {
      setState(s.frames > 0 ? "live" : "waiting", s.frames > 0 ? "live" : "connecting", s.frames > 0 ? "Live" : "Starting");
      say("Starting…", "The broadcast has begun; the first picture is on its way.");
    } else if (s.frames > 0 || hasFrame) {
      // hasFrame: this page showed pictures before (the server may have restarted since).
      setState("offline", "offline", "Offline");
      say("The broadcast is paused", "The picture comes back here by itself when it resumes.");
    } else {
      setState("offline", "offline", "Offline");
      say("Waiting for the broadcast", "Nothing has been sent to this room yet. Keep this page open.");
    }
    snapshotBtn.disabled = s.frames === 0;
  }

  async function poll() {
    let next = POLL_MS;
    try {
      const res = await fetch(api, { cache: "no-store" });
      if (res.status === 404 || res.status === 400) {
        failures = 0;
        lastFrames = -1;
        closeStream();
        setState("gone", "gone", "Not found");
        viewerCount.textContent = "–";
        info.textContent = "";
        say("This room does not exist", "The link may be mistyped or belong to another server. Ask for a new link.");
        next = GONE_POLL_MS;
      } else if (!res.ok) {
        throw new Error(`status ${res.status}`);
      } else {
        failures = 0;
        const s = await res.json();
        show(s);
        if (s.ended) {
          // Nothing more will come; the picture goes, and polls slow down (the room may
          // be used again only after it expired from the server's memory).
          closeStream();
          delete stage.dataset.hasFrame;
          hasFrame = false;
          next = GONE_POLL_MS;
        } else {
          // Keep a stream open while the room exists: it also receives frames as soon as
          // the publisher returns, and it is what counts this page as a viewer.
          if (streamOpen && streamIsDead(s)) closeStream();
          if (!streamOpen) openStream();
        }
        lastFrames = s.frames;
      }
    } catch (_) {
      failures += 1;
      lastFrames = -1;
      closeStream();
      // What the last answer said is no longer known.
      viewerCount.textContent = "–";
      info.textContent = "";
      setState("reconnecting", "reconnecting", "Reconnecting");
      say("Connection lost", "Trying again… the stream resumes on its own when the server is back.");
      next = Math.min(MAX_BACKOFF_MS, 1000 * 2 ** Math.min(failures - 1, 3));
    }
    clearTimeout(timer);
    timer = setTimeout(poll, next);
  }

  // The browser going back online, or the tab becoming visible, is a good moment to check.
  window.addEventListener("online", () => { clearTimeout(timer); poll(); });
  document.addEventListener("visibilitychange", () => {
    if (!document.hidden) { clearTimeout(timer); poll(); }
  });

  // Fullscreen (hidden where the page cannot have it, e.g. iPhone Safari).
  const fsEnabled = document.fullscreenEnabled || document.webkitFullscreenEnabled;
  if (!fsEnabled) fullscreenBtn.hidden = true;
  fullscreenBtn.addEventListener("click", async () => {
    const current = document.fullscreenElement || document.webkitFullscreenElement;
    try {
      if (current) {
        await (document.exitFullscreen || document.webkitExitFullscreen).call(document);
      } else {
        await (stage.requestFullscreen || stage.webkitRequestFullscreen).call(stage);
      }
    } catch (_) {
      flash("Full screen is not available here");
    }
  });
  const syncFs = () => stage.classList.toggle("is-fullscreen", !!(document.fullscreenElement || document.webkitFullscreenElement));
  document.addEventListener("fullscreenchange", syncFs);
  document.addEventListener("webkitfullscreenchange", syncFs);

  // Snapshot: the latest frame from the server, saved under a dated name.
  snapshotBtn.addEventListener("click", async () => {
    try {
      const res = await fetch(`${api}/snapshot.jpg`, { cache: "no-store" });
      if (res.status === 503) return flash("No picture yet");
      if (!res.ok) return flash("Snapshot failed");
      const url = URL.createObjectURL(await res.blob());
      const a = document.createElement("a");
      const stamp = new Date().toISOString().replace(/[:.]/g, "-").slice(0, 19);
      a.href = url;
      a.download = `lenscast-${room.slice(0, 8)}-${stamp}.jpg`;
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10000);
    } catch (_) {
      flash("Snapshot failed");
    }
  });

  let toastTimer = 0;
  function flash(text) {
    toast.textContent = text;
    toast.hidden = false;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(() => { toast.hidden = true; }, 2200);
  }

  // Hide the chrome after a few quiet seconds of live playback.
  let idleTimer = 0;
  const wake = () => {
    stage.classList.remove("idle");
    clearTimeout(idleTimer);
    idleTimer = setTimeout(() => stage.classList.add("idle"), 3500);
  };
  ["pointermove", "pointerdown", "keydown", "touchstart"].forEach((e) =>
    window.addEventListener(e, wake, { passive: true }));
  wake();

  if (!room) {
    setState("gone", "gone", "Not found");
    say("No room in this link", "A watch link looks like /watch/<room>.");
  } else {
    poll();
  }
})();
