// Media Source Extensions helpers shared by the browser tests' pages (clearkey.js, player.js).
'use strict';

// Resolves with the first `event` of `target`.
const once = (target, event) => new Promise((resolve) => target.addEventListener(event, resolve, {once: true}));

// Fetches `url` and appends its bytes to the SourceBuffer `buffer`; throws on an HTTP error or a
// refused append.
async function append(buffer, url) {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  const data = await response.arrayBuffer();
  const done = Promise.race([once(buffer, 'updateend'), once(buffer, 'error').then(() => { throw new Error(`appending ${url} failed`); })]);
  buffer.appendBuffer(data);
  await done;
}
