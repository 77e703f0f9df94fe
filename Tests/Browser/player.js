// Plays each entry of a job, one after another, in a muted <video>: {kind: "hls"} through the
// browser's own HLS player (<video src=…>), {kind: "dash"} through Media Source Extensions fed
// from the MPD by mpd-reader.js (live: from three segments before the edge, re-reading the MPD
// for new segments). It samples the video every 250 ms for the entry's seconds and POSTs the
// samples to the report URL as JSON. A job: {plays: [{name, kind, src, seconds}], parallel: n
// (entries played at once, default 1)}. The report:
// {results: [{name, samples: [[wall seconds, currentTime, decoded frames, readyState]],
// error: message or null, canPlay: canPlayType of the HLS MIME type, trace: what the DASH feed
// did (MPD reads, appends, the start), empty for HLS}]}.
'use strict';

function sleep(ms) { return new Promise((resolve) => setTimeout(resolve, ms)); }

// The buffered ranges of a SourceBuffer, as text.
const ranges = (buffer) => Array.from({length: buffer.buffered.length},
  (_, index) => `${buffer.buffered.start(index).toFixed(2)}-${buffer.buffered.end(index).toFixed(2)}`).join(',') || 'none';

// Feeds `video` from the MPD at `src` until `running()` turns false; throws what goes wrong.
// Notes each MPD read, append and the start in `trace` (seconds since the play began: what),
// so a play that does not start can be told apart.
async function feedDASH(video, src, running, trace) {
  const began = performance.now();
  const note = (what) => { if (trace.length < 80) trace.push(`${((performance.now() - began) / 1000).toFixed(2)}: ${what}`); };
  const source = new MediaSource();
  video.src = URL.createObjectURL(source);
  await once(source, 'sourceopen');
  let presentation = await MPDReader.read(src);
  const read = () => note(`MPD period ${presentation.period}, ` +
    presentation.tracks.map((track) => `${track.type} ${track.segments.length} from ${track.segments.length ? track.segments[0].start.toFixed(2) : '-'}`).join(', '));
  read();
  const feeds = presentation.tracks.map((track) => ({track, buffer: source.addSourceBuffer(track.mime), last: undefined, period: null}));
  let started = false;
  while (running()) {
    let appendedAny = false;
    for (const feed of feeds) {
      const track = presentation.tracks.find((candidate) => candidate.type === feed.track.type);
      if (!track) continue;
      if (feed.period !== presentation.period && track.init) {
        await append(feed.buffer, track.init);
        feed.period = presentation.period;
        note(`${track.type} init of period ${feed.period}`);
      }
      // After the last one appended (a live MPD also lists segments that left the time-shift
      // buffer); a live start takes the last three.
      let next = track.segments.filter((segment) => feed.last === undefined || segment.start > feed.last);
      if (presentation.dynamic && feed.last === undefined) next = next.slice(-3);
      // Keep at most 10 s ahead of the playhead.
      const segment = next.find((candidate) => candidate.start < video.currentTime + 10 || !started);
      if (!segment) continue;
      feed.last = segment.start;
      await append(feed.buffer, segment.url);
      appendedAny = true;
      note(`${track.type} ${segment.url.split('/').pop()} at ${segment.start.toFixed(2)}: buffered ${ranges(feed.buffer)}`);
    }
    if (!started && feeds.every((feed) => feed.buffer.buffered.length > 0)) {
      started = true;
      video.currentTime = Math.max(...feeds.map((feed) => feed.buffer.buffered.start(0)));
      note(`start at ${video.currentTime.toFixed(2)}`);
      video.play().catch((error) => note(`play(): ${error}`));
    }
    if (appendedAny) continue;
    if (!presentation.dynamic) {
      if (source.readyState === 'open' && feeds.every((feed) => !feed.buffer.updating)) source.endOfStream();
      return;
    }
    await sleep(Math.min(1000, presentation.updatePeriod * 500));
    presentation = await MPDReader.read(src);
    read();
  }
}

async function play(entry) {
  const video = document.createElement('video');
  video.muted = true;
  video.autoplay = true;
  // CORS mode: the media comes from the origin under test, not the page's server, and Chromium
  // refuses byte-range requests (single-file HLS) for cross-origin media fetched without CORS.
  video.crossOrigin = 'anonymous';
  document.body.appendChild(video);
  const result = {name: entry.name, samples: [], error: null, canPlay: video.canPlayType('application/vnd.apple.mpegurl'), trace: []};
  video.addEventListener('error', () => {
    result.error = result.error || (video.error ? `${video.error.code}: ${video.error.message}` : 'error');
  });
  const start = performance.now();
  const running = () => performance.now() - start < entry.seconds * 1000 && !result.error;
  if (entry.kind === 'dash') {
    feedDASH(video, entry.src, running, result.trace).catch((error) => { result.error = result.error || `MSE: ${error.message || error}`; });
  } else {
    video.src = entry.src;
    video.play().catch((error) => { result.error = result.error || `play(): ${error}`; });
  }
  while (running()) {
    await sleep(250);
    const quality = video.getVideoPlaybackQuality();
    result.samples.push([(performance.now() - start) / 1000, video.currentTime, quality.totalVideoFrames, video.readyState]);
  }
  video.pause();
  video.removeAttribute('src');
  video.load();
  video.remove();
  return result;
}

(async () => {
  const parameters = new URLSearchParams(location.search);
  const results = [];
  try {
    const job = await (await fetch(parameters.get('job'))).json();
    const parallel = job.parallel || 1;
    for (let start = 0; start < job.plays.length; start += parallel) {
      results.push(...await Promise.all(job.plays.slice(start, start + parallel).map(play)));
    }
  } catch (error) {
    results.push({name: 'job', samples: [], error: String(error), canPlay: ''});
  }
  await fetch(parameters.get('report'), {method: 'POST', headers: {'Content-Type': 'application/json'}, body: JSON.stringify({results})});
})();
