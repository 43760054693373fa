// The watch page: log in (POST /api/auth/token), pick a camera, watch it live.
// MSE over WebSocket first; LL-HLS (native) when MSE is unavailable or chosen.
"use strict";

(() => {
  const $ = (id) => document.getElementById(id);
  const state = { token: null, player: null, statsTimer: null, figuresTimer: null };
  const params = new URLSearchParams(window.location.search);

  async function api(path, options = {}) {
    const headers = Object.assign({}, options.headers || {});
    if (state.token) headers.Authorization = `Bearer ${state.token}`;
    const response = await fetch(path, Object.assign({}, options, { headers }));
    if (!response.ok) {
      let detail = `${response.status}`;
      try { detail = (await response.json()).detail || detail; } catch (e) { /* not JSON */ }
      throw new Error(detail);
    }
    return response.json();
  }

  async function login(event) {
    event.preventDefault();
    $("login-error").textContent = "";
    const body = new URLSearchParams({ username: $("username").value, password: $("password").value });
    try {
      const response = await fetch("/api/auth/token", { method: "POST", body });
      if (!response.ok) throw new Error((await response.json()).detail || response.status);
      state.token = (await response.json()).access_token;
    } catch (error) {
      $("login-error").textContent = `Login failed: ${error.message}`;
      return;
    }
    $("who").textContent = $("username").value;
    $("login").hidden = true;
    $("viewer").hidden = false;
    await loadCameras();
  }

  async function loadCameras() {
    const select = $("camera");
    select.textContent = "";
    const list = await api("/api/cameras");
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

  function stop() {
    if (state.player) state.player.stop();
    state.player = null;
    clearInterval(state.statsTimer);
    clearInterval(state.figuresTimer);
  }

  async function watch() {
    stop();
    $("player-error").textContent = "";
    const cameraId = $("camera").value;
    let urls;
    try {
      urls = await api(`/api/cameras/${encodeURIComponent(cameraId)}/stream`);
    } catch (error) {
      $("player-error").textContent = `No stream: ${error.message}`;
      return;
    }
    const video = $("video");
    const events = {
      onStatus: (text) => { $("state").textContent = text; },
      onError: (text) => { $("player-error").textContent = text; },
      onCodec: (text) => { $("codec").textContent = text; },
    };
    const { MsePlayer, HlsPlayer } = window.PlatoniCamPlayers;
    const mode = $("mode").value;
    const mseUsable = "MediaSource" in window;
    if (mode === "mse" || (mode === "auto" && mseUsable)) {
      state.player = new MsePlayer(video, urls.mse, events);
    } else {
      state.player = new HlsPlayer(video, urls.hls.low_latency, events);
    }
    document.body.dataset.mode = state.player instanceof MsePlayer ? "mse" : "hls";
    video.onerror = () => {
      const error = video.error;
      if (error && state.player) events.onError(`the video element failed: ${error.message || error.code}`);
    };
    if (!state.player.start()) return;
    state.statsTimer = setInterval(async () => {
      try {
        const stats = await fetch(urls.stats).then((r) => r.json());
        $("state").textContent = stats.state + (stats.reason ? ` (${stats.reason})` : "") +
          `, ${(stats.bitrate_bps / 1e6).toFixed(2)} Mbit/s, ${stats.fps.toFixed(1)} fps, ` +
          `${stats.viewers} viewer(s)`;
      } catch (e) { /* the next poll will tell */ }
    }, 2000);
    state.figuresTimer = setInterval(() => {
      const player = state.player;
      if (!player) return;
      $("playing").textContent = video.currentTime.toFixed(2) + " s";
      const latency = player.latency();
      $("latency").textContent = latency === null ? "-" : `${Math.round(latency * 1000)} ms`;
      if (player.skippedParts !== undefined) $("skipped").textContent = player.skippedParts;
    }, 250);
  }

  $("login").addEventListener("submit", login);
  $("play").addEventListener("click", watch);
  $("camera").addEventListener("change", watch);
  $("mode").addEventListener("change", watch);
})();
