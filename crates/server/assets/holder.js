// The holder's console, a little better with JavaScript (everything works
// without it): countdowns tick down to their request's deadline, and copy
// buttons put a share link on the clipboard.
(function () {
  "use strict";
  // Countdowns: `<time data-remaining="seconds">` as rendered by the server
  // (its clock, not the browser's); the text is `h:mm:ss` or `m:ss`.
  var started = Date.now();
  function clock(s) {
    var h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), x = s % 60;
    var mm = h > 0 && m < 10 ? "0" + m : String(m);
    return (h > 0 ? h + ":" : "") + mm + ":" + (x < 10 ? "0" + x : x);
  }
  function tick() {
    var now = Date.now();
    Array.prototype.forEach.call(document.querySelectorAll("time[data-remaining]"), function (t) {
      // A list swapped in by live.js brings fresh figures: count from then.
      if (!t.hasAttribute("data-seen")) t.setAttribute("data-seen", String(now));
      var seen = Number(t.getAttribute("data-seen")) || started;
      var left = Math.max(0, Number(t.getAttribute("data-remaining")) - Math.floor((now - seen) / 1000));
      var text = left > 0 ? clock(left) : (t.getAttribute("data-expired") || clock(0));
      if (t.textContent !== text) t.textContent = text;
    });
  }
  tick();
  window.setInterval(tick, 1000);

  // Copy buttons: `<button data-copy="<input id>">`, hidden until usable.
  if (!navigator.clipboard || !navigator.clipboard.writeText) return;
  Array.prototype.forEach.call(document.querySelectorAll("button[data-copy]"), function (b) {
    var input = document.getElementById(b.getAttribute("data-copy"));
    var status = document.getElementById(b.getAttribute("data-status") || "copy-status");
    if (!input) return;
    b.hidden = false;
    b.addEventListener("click", function () {
      navigator.clipboard.writeText(input.value).then(function () {
        if (status) status.textContent = b.getAttribute("data-copied") || "";
      }, function () {
        input.select();
      });
    });
  });
})();
