// The watch page: log in (POST /api/auth/token), pick a camera, watch it live.
// MSE over WebSocket first; LL-HLS (native) when MSE is unavailable or chosen.
//
// The session (access and refresh token, user name) is kept in sessionStorage: it survives a
// reload of this tab and ends with it. A refused access token is traded once for a new one
// with the refresh token; when that is refused too the login form comes back.
//
// The page recovers by itself. When the player loses its stream (the MSE WebSocket closes,
// the <video> element fails, or nothing new plays for a while although the camera is live
// or while the service does not answer) it asks for fresh stream URLs (media tokens are short-lived) and opens a new player, after
// a back-off that doubles from 0.5 s to 10 s and starts over once a player has played for a
// couple of seconds. Every player gets a generation number: callbacks of a player that was
// replaced (another camera, a log-out, a reconnect) find a newer generation and do nothing.
"use strict";

(() => {
  const $ = (id) => document.getElementById(id);
  const STORAGE_KEY = "platonicam.session";
  const RETRY_FIRST = 0.5; // seconds before the first reconnect
  const RETRY_MAX = 10; // the back-off stops doubling here
  const PLAYED_MS = 2000; // this long advancing counts as "it plays" (the back-off starts over)
  // Stalled this long (no progress, the page visible) while the stats say the camera is live,
  // or while the service does not answer at all: the player will not come back by itself
  // (Chromium's native HLS waits long between its own retries; a half-open WebSocket never
  // closes), so it is reopened.
  const STALLED_LIVE_MS = 20000;
  const STALLED_UNREACHABLE_MS = 4000;
  // Answers that another try will not change: say so and stop instead of looping.
  const FINAL_STATUSES = new Set([400, 403, 404, 422]);

  const state = {
    auth: null, // {user, access, refresh}; a refresh replaces it within the same login
    login: 0, // counts logins and log-outs: work begun under an older one is dropped
    refreshing: null, // the refresh in flight (refresh tokens are single-use: one at a time)
    player: null,
    session: null, // the open player's bookkeeping, see open()
    generation: 0,
    retryDelay: RETRY_FIRST,
    retryTimer: null,
    countdownTimer: null,
    reconnects: 0,
  };
  const params = new URLSearchParams(window.location.search);

  class ApiError extends Error {
    constructor(status, message) {
      super(message);
      this.status = status; // 0: the service did not answer
    }
  }

  // -- the session --------------------------------------------------------------------------

  function saveAuth(auth) {
    state.auth = auth;
    try {
      if (auth) sessionStorage.setItem(STORAGE_KEY, JSON.stringify(auth));
      else sessionStorage.removeItem(STORAGE_KEY);
    } catch (e) { /* storage disabled: the session lasts as long as the page */ }
  }

  function storedAuth() {
    try {
      const auth = JSON.parse(sessionStorage.getItem(STORAGE_KEY) || "null");
      if (auth && typeof auth.access === "string" && typeof auth.user === "string") return auth;
    } catch (e) { /* unreadable: log in again */ }
    return null;
  }

  async function send(path, options, token) {
    const headers = Object.assign({}, options.headers || {});
    if (token) headers.Authorization = `Bearer ${token}`;
    try {
      return await fetch(path, Object.assign({}, options, { headers }));
    } catch (error) {
      throw new ApiError(0, "the service is unreachable");
    }
  }

  async function failure(response) {
    let detail = `${response.status}`;
    try { detail = (await response.json()).detail || detail; } catch (e) { /* not JSON */ }
    return new ApiError(response.status, detail);
  }

  // Trade the refresh token for a new pair; false when it was refused (or is missing).
  function refreshAuth() {
    const auth = state.auth;
    const login = state.login;
    if (!auth || !auth.refresh) return Promise.resolve(false);
    if (!state.refreshing) {
      state.refreshing = (async () => {
        const response = await send("/api/auth/refresh", {
          method: "POST",
          headers: { "Content-Type": "application/json" },
          body: JSON.stringify({ refresh_token: auth.refresh }),
        });
        if (!response.ok) return false;
        const pair = await response.json();
        // A log-out while this ran wins: do not bring the session back.
        if (state.login !== login) return false;
        saveAuth({ user: auth.user, access: pair.access_token, refresh: pair.refresh_token });
        return true;
      })().catch(() => false).finally(() => { state.refreshing = null; });
    }
    return state.refreshing;
  }

  // GET a JSON API path with the session; ApiError (status 401: the session is over).
  async function api(path) {
    const auth = state.auth;
    let response = await send(path, {}, auth && auth.access);
    if (response.status === 401 && auth) {
      // Another request may have renewed the session meanwhile: then its token is tried.
      const renewed = (state.auth !== null && state.auth !== auth) || (await refreshAuth());
      if (renewed && state.auth) response = await send(path, {}, state.auth.access);
    }
    if (!response.ok) throw await failure(response);
    return response.json();
  }

  function showLoggedIn() {
    $("who").textContent = state.auth.user;
    $("account").hidden = false;
    $("login").hidden = true;
    $("viewer").hidden = false;
  }

  function showLogin(message) {
    $("account").hidden = true;
    $("viewer").hidden = true;
    $("login").hidden = false;
    $("password").value = "";
    $("login-error").textContent = message || "";
  }

  async function login(event) {
    event.preventDefault();
    $("login-error").textContent = "";
    const user = $("username").value;
    const body = new URLSearchParams({ username: user, password: $("password").value });
    try {
      const response = await send("/api/auth/token", { method: "POST", body });
      if (!response.ok) throw await failure(response);
      const pair = await response.json();
      state.login += 1;
      saveAuth({ user, access: pair.access_token, refresh: pair.refresh_token });
    } catch (error) {
      $("login-error").textContent = `Login failed: ${error.message}`;
      return;
    }
    $("password").value = "";
    showLoggedIn();
    await loadCameras();
  }

  function logOut(message) {
    stop();
    state.reconnects = 0;
    state.login += 1;
    saveAuth(null);
    const video = $("video");
    video.removeAttribute("src");
    video.load();
    $("camera").textContent = "";
    $("player-error").textContent = "";
    showConnection("logged-out", "logged out");
    showLogin(message);
  }

  // The service refused the session (and its refresh): back to the login form.
  function sessionRefused() {
    logOut("Your session has ended (the service refused it): log in again.");
  }

  async function loadCameras() {
    const login = state.login;
    const select = $("camera");
    select.textContent = "";
    let list;
    try {
      list = await api("/api/cameras");
    } catch (error) {
      if (state.login !== login) return;
      if (error.status === 401) sessionRefused();
      else $("player-error").textContent = `No cameras: ${error.message}`;
      return;
    }
    if (state.login !== login) return; // logged out (or in again) meanwhile
    for (const camera of list.cameras) {
      const option = document.createElement("option");
      option.value = camera.id;
      option.textContent = camera.name || camera.id;
      select.append(option);
    }
    if (params.get("camera")) select.value = params.get("camera");
    if (params.get("mode")) $("mode").value = params.get("mode");
    if (list.cameras.length) await watch();
  }

  // -- the player and its recovery -------------------------------------------------------------

  function showConnection(kind, text) {
    $("connection").textContent = text;
    document.body.dataset.connection = kind;
  }

  // Stop the player and every timer; callbacks of what was open become stale.
  function stop() {
    state.generation += 1;
    if (state.player) state.player.stop();
    state.player = null;
    const session = state.session;
    if (session) {
      clearInterval(session.statsTimer);
      clearInterval(session.figuresTimer);
    }
    state.session = null;
    clearTimeout(state.retryTimer);
    clearInterval(state.countdownTimer);
    $("video").onerror = null;
  }

  // The user picked a camera, a mode, or pressed Watch: a fresh start, back-off included.
  async function watch() {
    state.retryDelay = RETRY_FIRST;
    state.reconnects = 0;
    document.body.dataset.reconnects = "0";
    await open();
  }

  // The open player lost its stream: drop it and try again after the back-off.
  function lost(generation, reason) {
    if (generation !== state.generation) return;
    stop();
    retry(reason);
  }

  function retry(reason) {
    const generation = state.generation;
    const delay = state.retryDelay;
    state.retryDelay = Math.min(RETRY_MAX, delay * 2);
    const due = performance.now() + delay * 1000;
    const show = () => {
      const left = Math.max(0, (due - performance.now()) / 1000);
      const shown = left >= 1 ? Math.ceil(left).toString() : left.toFixed(1);
      showConnection("reconnecting", `reconnecting in ${shown} s (${reason})`);
    };
    show();
    state.countdownTimer = setInterval(show, 250);
    state.retryTimer = setTimeout(() => {
      if (generation !== state.generation) return;
      clearInterval(state.countdownTimer);
      state.reconnects += 1;
      document.body.dataset.reconnects = String(state.reconnects);
      open();
    }, delay * 1000);
  }

  async function open() {
    stop();
    const generation = state.generation;
    const cameraId = $("camera").value;
    $("player-error").textContent = "";
    showConnection("connecting", "connecting");
    let urls;
    try {
      urls = await api(`/api/cameras/${encodeURIComponent(cameraId)}/stream`);
    } catch (error) {
      if (generation !== state.generation) return; // another camera, or logged out
      if (error.status === 401) {
        sessionRefused();
      } else if (FINAL_STATUSES.has(error.status)) {
        $("player-error").textContent = `No stream: ${error.message}`;
        showConnection("stopped", "stopped");
      } else {
        retry(`no stream: ${error.message}`);
      }
      return;
    }
    if (generation !== state.generation) return;

    const video = $("video");
    const events = {
      onStatus: (text) => { if (generation === state.generation) $("state").textContent = text; },
      onError: (text) => { if (generation === state.generation) $("player-error").textContent = text; },
      onCodec: (text) => {
        if (generation !== state.generation) return;
        $("codec").textContent = text;
        showSound(text);
      },
      // Not called by today's players (the WebSocket's close event below stands in); a
      // player that reports its end itself is followed the same way.
      onClosed: (reason) => lost(generation, reason || "the stream closed"),
    };
    const { MsePlayer, HlsPlayer } = window.PlatoniCamPlayers;
    const mode = $("mode").value;
    const mseUsable = "MediaSource" in window;
    const player = (mode === "mse" || (mode === "auto" && mseUsable))
      ? new MsePlayer(video, urls.mse, events)
      : new HlsPlayer(video, urls.hls.low_latency, events);
    state.player = player;
    document.body.dataset.mode = player instanceof MsePlayer ? "mse" : "hls";
    video.onerror = () => {
      const error = video.error;
      if (!error || generation !== state.generation) return;
      const reason = `the video element failed: ${error.message || error.code}`;
      events.onError(reason);
      lost(generation, reason);
    };
    if (!player.start()) {
      // The browser cannot play this at all: another try would not either.
      showConnection("stopped", "stopped");
      return;
    }
    if (typeof WebSocket !== "undefined" && player.ws instanceof WebSocket) {
      player.ws.addEventListener("close", (event) => {
        // A player that closed its own socket (it could not play the stream) said why.
        if (player.closed === true) return;
        const why = `${event.code}${event.reason ? " " + event.reason : ""}`;
        lost(generation, `the WebSocket closed: ${why}`);
      });
    }

    const started = performance.now();
    const session = {
      urls,
      lastTime: video.currentTime,
      progressAt: started, // when currentTime last moved forward (or the player opened)
      playingSince: null, // start of the current run of progress
      played: false,
      liveSince: null, // since when the stats say "live" without a break
      unreachableSince: null, // since when the stats polls fail to reach the service
    };
    state.session = session;
    session.statsTimer = setInterval(() => pollStats(generation, session, cameraId), 2000);
    session.figuresTimer = setInterval(() => tick(generation, session, video), 250);
  }

  async function pollStats(generation, session, cameraId) {
    let response;
    try {
      response = await fetch(session.urls.stats);
    } catch (e) {
      if (generation !== state.generation) return;
      session.liveSince = null;
      if (session.unreachableSince === null) session.unreachableSince = performance.now();
      return;
    }
    if (generation !== state.generation) return;
    session.unreachableSince = null;
    let stats;
    try {
      if (response.status === 401 || response.status === 403) {
        // The media token expired under a long watch: the session gets a fresh one.
        const urls = await api(`/api/cameras/${encodeURIComponent(cameraId)}/stream`);
        if (generation === state.generation) session.urls.stats = urls.stats;
        return;
      }
      if (!response.ok) throw new Error(`${response.status}`);
      stats = await response.json();
    } catch (e) {
      if (generation === state.generation) session.liveSince = null; // unknown: no watchdog
      return; // the next poll will tell
    }
    if (generation !== state.generation) return;
    if (stats.state !== "live") session.liveSince = null;
    else if (session.liveSince === null) session.liveSince = performance.now();
    $("state").textContent = stats.state + (stats.reason ? ` (${stats.reason})` : "") +
      `, ${(stats.bitrate_bps / 1e6).toFixed(2)} Mbit/s, ${stats.fps.toFixed(1)} fps, ` +
      `${stats.viewers} viewer(s)`;
  }

  function tick(generation, session, video) {
    const player = state.player;
    if (generation !== state.generation || !player) return;
    const now = performance.now();
    const time = video.currentTime;
    if (time > session.lastTime) {
      session.progressAt = now;
      if (session.playingSince === null) session.playingSince = now;
    } else if (now - session.progressAt > 1000) {
      session.playingSince = null;
    }
    session.lastTime = time;
    if (session.playingSince !== null && now - session.playingSince >= PLAYED_MS) {
      if (!session.played) {
        session.played = true;
        state.retryDelay = RETRY_FIRST; // it works again: the next loss retries quickly
      }
      const after = state.reconnects ? ` (after ${state.reconnects} reconnect(s))` : "";
      showConnection("playing", `playing${after}`);
    } else if (session.played) {
      showConnection("waiting", "waiting for video");
    }
    if (document.visibilityState !== "visible") {
      session.progressAt = now; // hidden tabs may pause video: not a stall
    } else if (stalledSince(session, session.unreachableSince) > STALLED_UNREACHABLE_MS) {
      lost(generation, "the service does not answer");
      return;
    } else if (session.played && stalledSince(session, session.liveSince) > STALLED_LIVE_MS) {
      // Only after it played: a cold start (HLS waits for three segments) is no stall.
      lost(generation, `no new video for ${STALLED_LIVE_MS / 1000} s while the camera is live`);
      return;
    }
    $("playing").textContent = time.toFixed(2) + " s";
    const latency = player.latency();
    $("latency").textContent = latency === null ? "-" : `${Math.round(latency * 1000)} ms`;
    if (player.skippedParts !== undefined) $("skipped").textContent = player.skippedParts;
  }

  // Milliseconds without progress since ``since`` (a stats condition began); 0 without one.
  function stalledSince(session, since) {
    return since === null ? 0 : performance.now() - Math.max(session.progressAt, since);
  }

  $("login").addEventListener("submit", login);
  $("logout").addEventListener("click", () => logOut(""));
  $("play").addEventListener("click", watch);
  // An MSE type names every codec: without mp4a the camera sends no sound. (Native HLS
  // does not say, so the button stays.)
  function showSound(codec) {
    const silent = codec.startsWith("video/") && !codec.includes("mp4a");
    $("sound").disabled = silent;
    $("sound").title = silent ? "this camera sends no sound" : "";
  }

  $("sound").addEventListener("click", () => {
    const video = $("video");
    video.muted = !video.muted;
    $("sound").textContent = video.muted ? "Sound off" : "Sound on";
    $("sound").setAttribute("aria-pressed", String(!video.muted));
  });
  $("camera").addEventListener("change", watch);
  $("mode").addEventListener("change", watch);

  // A reload of this tab keeps its session.
  const auth = storedAuth();
  if (auth) {
    state.auth = auth;
    showLoggedIn();
    loadCameras();
  }
})();
