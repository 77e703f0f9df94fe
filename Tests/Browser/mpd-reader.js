// A small MPD reader for the browser player tests: the first video and the first audio
// Representation of the last Period (the live one in a dynamic MPD), each as a MIME type, an
// initialization URL and its media segments (URL, start in seconds), from a SegmentTemplate
// ($RepresentationID$, $Number$ with %0Nd, $Time$, $Bandwidth$; a SegmentTimeline or @duration)
// or from a single file (BaseURL with SegmentBase: the whole file is one append).
'use strict';

const MPDReader = (() => {
  const children = (node, name) => Array.from(node ? node.children : []).filter((child) => child.localName === name);
  const child = (node, name) => children(node, name)[0] || null;
  const seconds = (duration) => {
    const match = /^PT(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?$/.exec(duration || '');
    return match ? (+match[1] || 0) * 3600 + (+match[2] || 0) * 60 + (+match[3] || 0) : null;
  };
  const fill = (template, values) => template.replace(/\$(RepresentationID|Number|Time|Bandwidth)(%0(\d+)d)?\$/g,
    (_, name, format, width) => {
      const value = String(values[name]);
      return format ? value.padStart(+width, '0') : value;
    });
  // The attribute from the nearest of the given elements that has it.
  const inherited = (nodes, name) => {
    for (const node of nodes) if (node && node.hasAttribute(name)) return node.getAttribute(name);
    return null;
  };

  function track(mpdURL, mpd, period, set, representation) {
    const base = (node) => child(node, 'BaseURL');
    let url = mpdURL;
    for (const node of [mpd, period, set, representation]) if (base(node)) url = new URL(base(node).textContent.trim(), url).href;
    const mime = `${inherited([representation, set], 'mimeType')}; codecs="${inherited([representation, set], 'codecs')}"`;
    const type = (inherited([set, representation], 'contentType') || inherited([representation, set], 'mimeType')).split('/')[0];
    const template = child(representation, 'SegmentTemplate') || child(set, 'SegmentTemplate');
    if (!template) return {type, mime, init: null, segments: [{url, start: 0}]};
    const id = representation.getAttribute('id'), bandwidth = representation.getAttribute('bandwidth');
    const timescale = +(template.getAttribute('timescale') || 1);
    const startNumber = +(template.getAttribute('startNumber') || 1);
    const media = template.getAttribute('media');
    const segments = [];
    const timeline = child(template, 'SegmentTimeline');
    if (timeline) {
      let time = 0, number = startNumber;
      for (const s of children(timeline, 'S')) {
        if (s.hasAttribute('t')) time = +s.getAttribute('t');
        const d = +s.getAttribute('d'), r = +(s.getAttribute('r') || 0);
        for (let i = 0; i <= r; i++, number++, time += d) {
          segments.push({url: new URL(fill(media, {RepresentationID: id, Number: number, Time: time, Bandwidth: bandwidth}), url).href,
                         start: time / timescale});
        }
      }
    } else {
      const d = +template.getAttribute('duration');
      const total = seconds(mpd.getAttribute('mediaPresentationDuration')) || 0;
      for (let i = 0; i * d / timescale < total; i++) {
        segments.push({url: new URL(fill(media, {RepresentationID: id, Number: startNumber + i, Time: i * d, Bandwidth: bandwidth}), url).href,
                       start: i * d / timescale});
      }
    }
    const init = new URL(fill(template.getAttribute('initialization'), {RepresentationID: id, Bandwidth: bandwidth}), url).href;
    return {type, mime, init, segments};
  }

  async function read(mpdURL) {
    const text = await (await fetch(mpdURL, {cache: 'no-store'})).text();
    const mpd = new DOMParser().parseFromString(text, 'application/xml').documentElement;
    const periods = children(mpd, 'Period');
    const period = periods[periods.length - 1];
    const tracks = [];
    for (const type of ['video', 'audio']) {
      for (const set of children(period, 'AdaptationSet')) {
        const representations = children(set, 'Representation');
        const first = representations[0];
        if (!first) continue;
        const found = track(mpdURL, mpd, period, set, first);
        if (found.type === type) { tracks.push(found); break; }
      }
    }
    return {dynamic: mpd.getAttribute('type') === 'dynamic', period: period.getAttribute('id'),
            updatePeriod: seconds(mpd.getAttribute('minimumUpdatePeriod')) || 2, tracks};
  }

  return {read};
})();
