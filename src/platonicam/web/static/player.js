// PlatoniCam players: MSE over WebSocket, and HLS (native) as the fallback. No build step.
//
// MSE protocol (specified in platonicam/media/mse.py): a JSON text message
// {"type":"init","mime":...}, then the init segment (binary); then one binary message per
// frame: prft + moof + mdat, appended as it is. The SourceBuffer runs in "sequence" mode,
// so a new epoch, a skip forward or a gap simply continues the timeline.
//
// A camera with AAC audio: the init segment has two tracks and the mime names both codecs;
// a frame message's moof may carry the audio that came since the previous frame in a
// second traf, for the same one SourceBuffer. Sequence mode keeps the tracks in sync: it
// only moves the timeline at a discontinuity, and then for every track at once (the next
// frame of each track lands at the same offset), so each track's own timestamps place it
// against the other.
//
// Latency: each frame's prft carries its capture time (NTP format). When the frame is
// appended we note where it landed on the media timeline; at the playhead,
// latency = now - (stamp + (currentTime - frameStart)).
"use strict";

const PRFT = 0x70726674; // "prft"
const MOOF = 0x6d6f6f66; // "moof"
const MFHD = 0x6d666864; // "mfhd"
const VIDEO_TRACK = 1; // the video track's ID in every init segment (audio is 2)
const NTP_UNIX_OFFSET = 2208988800; // seconds from 1900-01-01 to 1970-01-01
const TWO_32 = 4294967296;

// The capture stamp (Unix seconds), mfhd sequence number and track (1 video, 2 audio) of a
// frame message, or null for anything else (an init segment).
function readFrame(buffer) {
  if (buffer.byteLength < 32 + 24) return null;
  const view = new DataView(buffer);
  if (view.getUint32(4) !== PRFT) return null;
  const size = view.getUint32(0);
  // prft: header 8, version and flags 4, reference_track_ID 4, then NTP seconds, fraction.
  let seconds = view.getUint32(16) - NTP_UNIX_OFFSET;
  if (seconds < 0) seconds += TWO_32; // NTP era 1 (after February 2036)
  const stamp = seconds + view.getUint32(20) / TWO_32;
  const track = view.getUint32(12);
  let sequence = null;
  if (size + 24 <= buffer.byteLength && view.getUint32(size + 4) === MOOF
      && view.getUint32(size + 12) === MFHD) {
    sequence = view.getUint32(size + 20); // moof header 8, mfhd header 8, version/flags 4
  }
  return { stamp, sequence, track };
}

class MsePlayer {
  constructor(video, url, events) {
    this.video = video;
    this.url = url;
    this.events = events; // {onStatus(text), onError(text), onCodec(mime)}
    this.queue = []; // [{data, stamp}] waiting for the SourceBuffer
    this.frames = []; // [{start, end, stamp}] on the media timeline
    this.sourceBuffer = null;
    this.mediaSource = null;
    this.ws = null;
    this.closed = false;
    this.skippedParts = 0; // times the server skipped this viewer forward to a keyframe
    this.lastSequence = null;
  }

  start() {
    if (!("MediaSource" in window)) {
      this.events.onError("MediaSource is not supported by this browser");
      return false;
    }
    this.ws = new WebSocket(this.url);
    this.ws.binaryType = "arraybuffer";
    this.ws.onmessage = (event) => this.onMessage(event);
    this.ws.onclose = (event) => {
      if (!this.closed) this.events.onStatus(`closed (${event.code} ${event.reason || ""})`);
    };
    this.ws.onerror = () => this.events.onError("the WebSocket failed");
    return true;
  }

  stop() {
    this.closed = true;
    if (this.ws) this.ws.close();
    if (this.mediaSource && this.mediaSource.readyState === "open") {
      try { this.mediaSource.endOfStream(); } catch (e) { /* already ended */ }
    }
  }

  onMessage(event) {
    if (typeof event.data === "string") {
      const message = JSON.parse(event.data);
      if (message.type === "init") this.onInit(message);
      return;
    }
    const frame = readFrame(event.data);
    if (frame && frame.sequence !== null) {
      // Frame numbers run on across epochs: a jump means frames were skipped.
      if (this.lastSequence !== null && frame.sequence > this.lastSequence + 1) {
        this.skippedParts += 1;
      }
      this.lastSequence = frame.sequence;
    }
    // Latency is read off the video frames (every prft names the video track today).
    const stamp = frame && frame.track === VIDEO_TRACK ? frame.stamp : null;
    this.queue.push({ data: event.data, stamp });
    this.pump();
  }

  onInit(message) {
    const mime = message.mime;
    this.events.onCodec(mime);
    if (!MediaSource.isTypeSupported(mime)) {
      this.events.onError(`MediaSource.isTypeSupported is false for ${mime}`);
      this.stop();
      return;
    }
    if (this.sourceBuffer) {
      // A new epoch: same buffer, maybe another codec string.
      if (this.mime !== mime && this.sourceBuffer.changeType) this.sourceBuffer.changeType(mime);
      this.mime = mime;
      return;
    }
    this.mime = mime;
    this.mediaSource = new MediaSource();
    this.mediaSource.addEventListener("sourceopen", () => {
      this.sourceBuffer = this.mediaSource.addSourceBuffer(mime);
      this.sourceBuffer.mode = "sequence";
      this.sourceBuffer.addEventListener("updateend", () => this.onAppended());
      this.pump();
    }, { once: true });
    this.video.src = URL.createObjectURL(this.mediaSource);
    this.video.play().catch(() => { /* autoplay waits for data */ });
  }

  pump() {
    const buffer = this.sourceBuffer;
    if (!buffer || buffer.updating || this.queue.length === 0) return;
    const next = this.queue.shift();
    this.appending = next;
    this.appendStart = this.bufferedEnd();
    try {
      buffer.appendBuffer(next.data);
    } catch (error) {
      if (error.name === "QuotaExceededError") {
        this.queue.unshift(next);
        this.trim(true);
      } else {
        this.events.onError(`appendBuffer failed: ${error.message}`);
      }
    }
  }

  bufferedEnd() {
    const ranges = this.sourceBuffer ? this.sourceBuffer.buffered : null;
    return ranges && ranges.length ? ranges.end(ranges.length - 1) : 0;
  }

  onAppended() {
    const appended = this.appending;
    this.appending = null;
    if (appended && appended.stamp !== null && appended.stamp !== undefined) {
      this.frames.push({ start: this.appendStart, end: this.bufferedEnd(), stamp: appended.stamp });
      if (this.frames.length > 900) this.frames.splice(0, this.frames.length - 900);
    }
    this.chaseLiveEdge();
    if (!this.trim(false)) this.pump();
  }

  chaseLiveEdge() {
    const video = this.video;
    const end = this.bufferedEnd();
    if (end === 0) return;
    // Start (or fall) behind by more than a second: jump to just before the newest frame.
    if (end - video.currentTime > 1.0) video.currentTime = Math.max(0, end - 0.3);
    if (video.paused) video.play().catch(() => {});
  }

  trim(force) {
    const buffer = this.sourceBuffer;
    if (!buffer || buffer.updating) return false;
    const keepFrom = this.video.currentTime - 10;
    const ranges = buffer.buffered;
    if (ranges.length && (force || keepFrom - ranges.start(0) > 20) && keepFrom > ranges.start(0)) {
      buffer.remove(ranges.start(0), keepFrom);
      return true;
    }
    return false;
  }

  latency() {
    const t = this.video.currentTime;
    for (let i = this.frames.length - 1; i >= 0; i--) {
      const frame = this.frames[i];
      if (frame.start <= t && t < frame.end + 0.05) {
        return Date.now() / 1000 - (frame.stamp + (t - frame.start));
      }
    }
    return null;
  }
}

class HlsPlayer {
  constructor(video, url, events) {
    this.video = video;
    this.url = url;
    this.events = events;
  }

  start() {
    if (!this.video.canPlayType("application/vnd.apple.mpegurl")) {
      this.events.onError("this browser cannot play HLS natively");
      return false;
    }
    this.events.onCodec("HLS (native)");
    this.video.src = this.url;
    this.video.play().catch(() => {});
    return true;
  }

  stop() {
    this.video.removeAttribute("src");
    this.video.load();
  }

  latency() {
    // EXT-X-PROGRAM-DATE-TIME maps the playhead to the capture clock where the browser
    // exposes it (getStartDate); otherwise there is nothing to measure against.
    if (typeof this.video.getStartDate !== "function") return null;
    const start = this.video.getStartDate();
    if (!start || Number.isNaN(start.getTime())) return null;
    return Date.now() / 1000 - (start.getTime() / 1000 + this.video.currentTime);
  }
}

window.PlatoniCamPlayers = { MsePlayer, HlsPlayer };
