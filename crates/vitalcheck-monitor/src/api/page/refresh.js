// Live refresh, nothing else: the page is complete without this script. Every 15 s, and
// soon after a transition arrives on the event stream, fetch the page again and swap in
// its <main>. Paused while the tab is hidden.
(function () {
  "use strict";
  var busy = false, timer = null;
  function refresh() {
    if (busy || document.hidden) return;
    busy = true;
    fetch(location.href, { cache: "no-store" })
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (html) {
        if (!html) return;
        var next = new DOMParser().parseFromString(html, "text/html").getElementById("page");
        var now = document.getElementById("page");
        if (next && now) now.replaceWith(next);
      })
      .catch(function () {})
      .then(function () { busy = false; });
  }
  function soon() {
    clearTimeout(timer);
    timer = setTimeout(refresh, 500);
  }
  setInterval(refresh, 15000);
  document.addEventListener("visibilitychange", function () { if (!document.hidden) refresh(); });
  window.addEventListener("load", function () {
    if (!window.EventSource) return;
    var events = new EventSource("api/v1/events");
    events.addEventListener("transition", soon);
  });
})();
