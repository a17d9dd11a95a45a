// Keeps a dashboard page live: every data-refresh milliseconds (the <body>'s attribute;
// 0 or none: never) it fetches the page again and swaps each element marked data-live
// (found by its id) for its fresh copy. The page is whole without this script; it only
// keeps it current. It stops once the page holds an element marked data-final (a job
// that has ended), and waits while the tab is hidden.
(function () {
  "use strict";
  var every = Number(document.body.getAttribute("data-refresh") || 0);
  var note = document.getElementById("live-status");
  if (!every || !window.fetch || !window.DOMParser) {
    return;
  }

  function say(text, stale) {
    if (note) {
      note.textContent = text;
      note.classList.toggle("stale", Boolean(stale));
    }
  }

  function finished() {
    return document.querySelector("[data-final]") !== null;
  }

  function swap(fresh) {
    var live = document.querySelectorAll("[data-live][id]");
    for (var i = 0; i < live.length; i++) {
      var replacement = fresh.getElementById(live[i].id);
      if (replacement) {
        live[i].replaceWith(document.importNode(replacement, true));
      }
    }
  }

  function schedule() {
    window.setTimeout(refresh, every);
  }

  function refresh() {
    if (document.hidden) {
      schedule();
      return;
    }
    fetch(window.location.href, { credentials: "same-origin", cache: "no-store" })
      .then(function (response) {
        if (response.redirected && new URL(response.url).pathname === "/dashboard/login") {
          window.location.assign(response.url); // logged out, or the key was revoked
          throw new Error("login");
        }
        if (!response.ok) {
          throw new Error("HTTP " + response.status);
        }
        return response.text();
      })
      .then(function (html) {
        swap(new DOMParser().parseFromString(html, "text/html"));
        if (finished()) {
          say("final");
          return;
        }
        say("live · " + new Date().toLocaleTimeString());
        schedule();
      })
      .catch(function (error) {
        if (error.message === "login") {
          return;
        }
        say("not updated (" + error.message + "), trying again", true);
        schedule();
      });
  }

  if (finished()) {
    say("final");
  } else {
    say("live");
    schedule();
  }
})();
