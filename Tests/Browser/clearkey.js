// Plays each entry of a job (clearkey.html?job=<job.json>&report=<url>) to its end in a muted
// <video> through Media Source Extensions, with Encrypted Media Extensions and the W3C Clear Key
// system when the entry has keys, then POSTs what it saw to the report URL as JSON. A job:
//   {"playbackRate": 4, "timeout": 30, "plays": [{"name": "cenc",
//     "keys": [{"kid": "<hex>", "key": "<hex>"}],             (none: clear, no EME)
//     "tracks": [{"mime": "video/mp4; codecs=\"avc1.64001e\"", "init": "<url>", "segments": ["<url>", …]}]}]}
// The license comes from the page: the session's message event is answered with a JSON Web Key set
// holding the requested key IDs' keys. The report: {log, results: [{name, outcome: "played" (the
// end was reached) | "error" (a MediaError or a failed step) | "timeout" (neither within `timeout`
// seconds), error, currentTime, frames (totalVideoFrames: decoded), droppedFrames,
// mediaError {code, message}, requestedKeyIDs (asked for by the CDM), keyStatuses}]}.
'use strict';
const log = [];
const note = (line) => {
  log.push(`${(performance.now() / 1000).toFixed(2)} ${line}`);
  document.getElementById('log').textContent = log.join('\n');
};
const bytes = (hex) => Uint8Array.from(hex.match(/../g), (pair) => parseInt(pair, 16));
const hex = (buffer) => Array.from(new Uint8Array(buffer), (b) => b.toString(16).padStart(2, '0')).join('');
const base64url = (data) => btoa(String.fromCharCode(...data)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
const fromBase64url = (text) => Uint8Array.from(atob(text.replace(/-/g, '+').replace(/_/g, '/')), (c) => c.charCodeAt(0));

// MediaKeys for the entry's keys, with a session already licensed (key IDs as "keyids" init data,
// as a DASH player does from the MPD's cenc:default_KID).
async function licensedKeys(play, video, result) {
  const capabilities = (type) => play.tracks.filter((t) => t.mime.startsWith(type)).map((t) => ({contentType: t.mime}));
  const access = await navigator.requestMediaKeySystemAccess('org.w3.clearkey', [{initDataTypes: ['keyids', 'cenc'],
    videoCapabilities: capabilities('video'), audioCapabilities: capabilities('audio')}]);
  const mediaKeys = await access.createMediaKeys();
  await video.setMediaKeys(mediaKeys);
  const session = mediaKeys.createSession('temporary');
  session.addEventListener('keystatuseschange', () => session.keyStatuses.forEach((status, kid) => {
    result.keyStatuses[hex(kid)] = status;
  }));
  const licensed = new Promise((resolve, reject) => session.addEventListener('message', (event) => {
    const request = JSON.parse(new TextDecoder().decode(event.message));
    result.requestedKeyIDs = request.kids.map((kid) => hex(fromBase64url(kid)));
    const keys = play.keys.filter((k) => result.requestedKeyIDs.includes(k.kid))
      .map((k) => ({kty: 'oct', kid: base64url(bytes(k.kid)), k: base64url(bytes(k.key))}));
    note(`license request for ${result.requestedKeyIDs}, answered with ${keys.length} key(s)`);
    session.update(new TextEncoder().encode(JSON.stringify({keys, type: 'temporary'}))).then(resolve, reject);
  }));
  const kids = [...new Set(play.keys.map((k) => base64url(bytes(k.kid))))];
  await session.generateRequest('keyids', new TextEncoder().encode(JSON.stringify({kids})));
  await licensed;
}

async function feed(play, video) {
  const source = new MediaSource();
  video.src = URL.createObjectURL(source);
  await once(source, 'sourceopen');
  const unsupported = play.tracks.find((t) => !MediaSource.isTypeSupported(t.mime));
  if (unsupported) throw new Error(`MediaSource does not support ${unsupported.mime}`);
  const buffers = play.tracks.map((t) => source.addSourceBuffer(t.mime));
  await Promise.all(play.tracks.map(async (t, i) => { for (const url of [t.init, ...t.segments]) await append(buffers[i], url); }));
  source.endOfStream();
  note('all segments appended');
  await video.play();
}

async function run(job, play) {
  const rate = job.playbackRate;
  const video = Object.assign(document.createElement('video'), {muted: true, defaultPlaybackRate: rate, playbackRate: rate});
  document.body.append(video);
  video.addEventListener('encrypted', (event) => note(`encrypted event: ${event.initDataType} init data`));
  const result = {name: play.name, requestedKeyIDs: [], keyStatuses: {}};
  const mediaError = () => video.error && `MediaError ${video.error.code}: ${video.error.message}`;
  let timer;
  const outcome = new Promise((resolve) => {
    const start = performance.now();
    timer = setInterval(() => {
      if (video.error) resolve({outcome: 'error', error: mediaError()});
      else if (video.ended) resolve({outcome: 'played'});
      else if (performance.now() - start > job.timeout * 1000) resolve({outcome: 'timeout'});
    }, 50);
  });
  const steps = (async () => {
    if (play.keys?.length) await licensedKeys(play, video, result);
    await feed(play, video);
    return outcome;
  })().catch((error) => ({outcome: 'error', error: mediaError() || String(error)}));
  Object.assign(result, await Promise.race([outcome, steps]));
  clearInterval(timer);
  const quality = video.getVideoPlaybackQuality();
  Object.assign(result, {currentTime: video.currentTime, frames: quality.totalVideoFrames, droppedFrames: quality.droppedVideoFrames,
    mediaError: video.error && {code: video.error.code, message: video.error.message}});
  note(`${play.name}: ${result.outcome} ${result.error || ''} at ${result.currentTime}, ${result.frames} frames`);
  video.remove();
  return result;
}

(async () => {
  const parameters = new URLSearchParams(location.search);
  const results = [];
  try {
    const job = await (await fetch(parameters.get('job'))).json();
    for (const play of job.plays) results.push(await run(job, play));
  } catch (error) {
    results.push({name: 'page', outcome: 'error', error: `the page failed: ${error}`});
  }
  await fetch(parameters.get('report'), {method: 'POST', headers: {'Content-Type': 'application/json'}, body: JSON.stringify({results, log})});
})();
