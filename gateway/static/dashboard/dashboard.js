// Keeps a dashboard page live: every data-refresh milliseconds (the <body>'s attribute;
// 0 or none: never) it fetches the page again and swaps each element marked data-live
// (found by its id) for its fresh copy. The page is whole without this script; it only
// keeps it current. It stops once the page holds an element marked data-final (a job
// that has ended), and waits while the tab is hidden.
(function () {
  "use strict";
  // Buttons that act on many things ask first (data-confirm); without the script they
  // post at once, as every form of the page does.
  document.addEventListener("submit", function (event) {
    var button = event.submitter;
    var question = button && button.getAttribute("data-confirm");
    if (question && !window.confirm(question)) {
      event.preventDefault();
    }
  });

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

  // A part marked data-live="steady" that the pointer is on, or whose button has the
  // focus, waits for the next turn: its rows must not move under a click (each row's
  // buttons act on that row's entry).
  function busy(element) {
    return (
      element.getAttribute("data-live") === "steady" &&
      (element.matches(":hover") || element.contains(document.activeElement))
    );
  }

  function swap(fresh) {
    var live = document.querySelectorAll("[data-live][id]");
    for (var i = 0; i < live.length; i++) {
      if (busy(live[i])) {
        continue;
      }
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
