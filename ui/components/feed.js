// A live view's feed, shared by the 2-D playground (grid_view.js) and the GAN lab (gan_view.js); prepended
// to their code (see feed.py). The view streams its run's Server-Sent Events; where the stream fails (a
// proxy that blocks or buffers the app's routes) the page polls and hands each update over in `data.feed`,
// and the stream is tried again every `data.retry` ms. The view's element says which: data-mode
// "stream" or "poll". `s` is the view's state (kept on its element: Streamlit calls the view again on every
// data change without the old cleanup); `s.fn` holds the view's latest handlers: message(m), end(m),
// take(feed), layout().
const ENDED = ["done", "failed", "stopped"];

function viewFeed(s, el, url, setStateValue, fresh) {
  // The stream's functions for this call (`url` is this call's); `fresh()` resets what the view counts
  // when a stream's first event arrives (it starts again at epoch 1).
  const feed = {
    close() { if (s.es) { s.es.close(); s.es = null; } clearTimeout(s.watch); },
    say(v) { if (s.said !== v) { s.said = v; setStateValue("stream", v); } },
    retry() { s.timer = null; if (s.feed && !s.es && s.url && !ENDED.includes(s.state)) feed.open(); },
    fail(es) {
      if (s.es !== es) return;
      feed.close(); s.fn.say("failed"); el.dataset.mode = s.feed ? "poll" : "";
      if (s.feed) s.timer = setTimeout(() => s.fn.retry(), s.data.retry || 30000);
    },
    open() {
      const es = new EventSource(url); s.es = es; s.got = false; s.fails = 0;
      s.watch = setTimeout(() => { if (!s.got) feed.fail(es); }, 10000);  // a proxy that buffers lets nothing through
      es.onmessage = (ev) => {
        if (!s.got) { s.got = true; s.metrics = []; fresh(); clearTimeout(s.watch); s.fn.say("ok"); el.dataset.mode = "stream"; }
        s.fn.message(JSON.parse(ev.data));
      };
      es.addEventListener("end", (ev) => { feed.close(); s.fn.end(JSON.parse(ev.data)); });
      // refused (a 404 from a proxy, or a run that is not ours): closed at once; unreachable: retried by the
      // browser, given up after five tries without a message. A stream that worked reconnects by itself.
      es.onerror = () => { if (es.readyState === 2 || (!s.got && ++s.fails >= 5)) feed.fail(es); };
    },
  };
  return feed;
}

function feedUpdate(s, el, url, data, feed, changed, reset) {
  // One call of the view: a new run (`changed`) resets the state (with the view's own `reset` fields) and
  // opens its stream; a polled update is taken while no stream works; the stream is retried later. Returns
  // the view's cleanup.
  if (changed) {
    feed.close(); clearTimeout(s.timer); s.timer = null;
    Object.assign(s, { url, view: null, metrics: [], fails: 0, epoch: 0, frameId: null,
                       state: data.state || "", message: data.message || "" }, reset);
    if (url && !ENDED.includes(data.state)) feed.open();  // a new run: try its stream at once, also while polling
  }
  if (!s.es && data.state) { s.state = data.state; s.message = data.message || ""; }
  s.fn.layout();
  if (s.feed && !(s.es && s.got)) s.fn.take(s.feed);
  if (s.feed && url && !ENDED.includes(data.state) && !s.es && !s.timer) s.timer = setTimeout(() => s.fn.retry(), data.retry || 30000);
  el.dataset.mode = s.es && s.got ? "stream" : s.feed ? "poll" : "";
  if (!s.ro) { s.ro = new ResizeObserver(() => s.fn.layout()); s.ro.observe(el); }
  return () => { feed.close(); clearTimeout(s.timer); s.timer = null; if (s.ro) { s.ro.disconnect(); s.ro = null; } };
}
