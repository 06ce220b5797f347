// lenscast viewer page. The <img> plays the MJPEG stream; the room-state API drives the
// badge, the viewer count and the messages. Polling never counts as a viewer: only the
// stream does. After the server or the publisher comes back, the stream is reopened.
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

  let streamOpen = false; // an <img> request for the stream is in flight
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
  }

  function closeStream() {
    if (streamOpen) {
      img.removeAttribute("src");
      streamOpen = false;
    }
  }

  // Chrome fires "load" when a multipart stream ends, Firefox on every part; either way
  // the next poll decides whether to reopen.
  img.addEventListener("error", () => { streamOpen = false; });
  img.addEventListener("load", () => {
    if (img.naturalWidth > 0) {
      hasFrame = true;
      stage.dataset.hasFrame = "";
    }
  });

  function formatInfo(s) {
    if (!s.live || !s.width) return "";
    const fps = s.fps ? ` · ${Math.round(s.fps)} fps` : "";
    return `${s.width}×${s.height}${fps}`;
  }

  function show(s) {
    viewerCount.textContent = String(s.viewers);
    viewerCount.parentElement.title = `${s.viewers} watching now`;
    info.textContent = formatInfo(s);
    if (s.frames > 0) {
      hasFrame = true;
      stage.dataset.hasFrame = "";
    }
    if (s.live) {
      setState(s.frames > 0 ? "live" : "waiting", s.frames > 0 ? "live" : "connecting", s.frames > 0 ? "Live" : "Starting");
      say("Starting…", "The broadcast has begun; the first picture is on its way.");
    } else if (s.frames > 0) {
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
        closeStream();
        setState("gone", "gone", "Ended");
        viewerCount.textContent = "–";
        info.textContent = "";
        say("This room does not exist", "The link may be mistyped, or the broadcast ended and the room was closed. Ask for a new link.");
        next = GONE_POLL_MS;
      } else if (!res.ok) {
        throw new Error(`status ${res.status}`);
      } else {
        failures = 0;
        show(await res.json());
        // Keep a stream open while the room exists: it also receives frames as soon as
        // the publisher returns, and it is what counts this page as a viewer.
        if (!streamOpen) openStream();
      }
    } catch (_) {
      failures += 1;
      closeStream();
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
    setState("gone", "gone", "Ended");
    say("No room in this link", "A watch link looks like /watch/<room>.");
  } else {
    poll();
  }
})();
