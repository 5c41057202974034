// Live updates without a framework: every element with `data-live` (an SSE
// URL) and `data-fragment` (a URL of its server-rendered HTML) is re-fetched
// and swapped in when the server says something changed. The announcement
// goes into the page's `aria-live` region, which exists (empty) from load.
// Without JavaScript the page works with its Refresh link.
(function () {
  "use strict";
  if (!("EventSource" in window) || !window.fetch) return;
  var regions = document.querySelectorAll("[data-live][data-fragment]");
  Array.prototype.forEach.call(regions, function (region) {
    var status = document.getElementById(region.getAttribute("data-status") || "live-status");
    var busy = false, again = false;
    function refresh() {
      if (busy) { again = true; return; }
      busy = true;
      fetch(region.getAttribute("data-fragment"), {
        credentials: "same-origin",
        headers: { "Accept": "text/html" }
      }).then(function (r) {
        if (!r.ok) throw new Error("HTTP " + r.status);
        return r.text();
      }).then(function (html) {
        if (html !== region.innerHTML) {
          region.innerHTML = html;
          if (status) status.textContent = region.getAttribute("data-announce") || "";
        }
      }).catch(function () { /* the Refresh link still works */ })
        .then(function () {
          busy = false;
          if (again) { again = false; refresh(); }
        });
    }
    var source = new EventSource(region.getAttribute("data-live"));
    source.addEventListener("change", refresh);
    // After a reconnect, catch up on what may have changed meanwhile.
    source.addEventListener("open", function () {
      if (region.hasAttribute("data-opened")) refresh();
      region.setAttribute("data-opened", "");
    });
    window.addEventListener("pagehide", function () { source.close(); });
  });
  Array.prototype.forEach.call(document.querySelectorAll("a.js-refresh"), function (a) {
    a.hidden = true;
  });
})();
