// Loaded first: every uncaught error and rejected promise is written into
// #errors, so a user (and the page's browser test) sees that something broke.
"use strict";
(function () {
  const seen = [];
  function show() {
    const box = document.getElementById("errors");
    if (!box) return;
    box.hidden = seen.length === 0;
    box.textContent = seen.join("\n");
  }
  function note(text) {
    seen.push(text);
    if (document.readyState === "loading") {
      document.addEventListener("DOMContentLoaded", show, { once: true });
    } else {
      show();
    }
  }
  window.addEventListener("error", function (e) {
    note("Uncaught " + (e.error && e.error.stack ? e.error.stack : e.message) +
         (e.filename ? " (" + e.filename + ":" + e.lineno + ")" : ""));
  });
  window.addEventListener("unhandledrejection", function (e) {
    const r = e.reason;
    note("Unhandled rejection: " + (r && r.stack ? r.stack : String(r)));
  });
})();
