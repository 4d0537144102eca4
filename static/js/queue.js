// The priority queue refreshes itself while someone is looking at it: every
// data-refresh-seconds of #queue-table (templates/tickets/queue.html), and at once when a tab
// that has missed a refresh becomes visible again. A hidden tab does not poll. Done here, not as
// an hx-trigger filter, because htmx would have to eval the filter and our pages allow no eval.
(function () {
  "use strict";

  let timer = null;
  let missed = false;

  function table() {
    return document.getElementById("queue-table");
  }

  function refresh() {
    const element = table();
    if (!element) return;
    if (document.visibilityState === "visible") {
      missed = false;
      htmx.trigger(element, "queue-refresh");
    } else {
      missed = true;
    }
  }

  // Count from the last time the table came in, whatever brought it (a refresh, the filters,
  // the back button), so that a refresh never follows right after a swap.
  function schedule() {
    const element = table();
    clearTimeout(timer);
    if (!element) return;
    const seconds = Number(element.dataset.refreshSeconds) || 20;
    timer = setTimeout(refresh, seconds * 1000);
  }

  document.addEventListener("htmx:afterSettle", schedule);
  // A failed request swaps nothing: try again after the usual wait.
  document.addEventListener("htmx:responseError", schedule);
  document.addEventListener("htmx:sendError", schedule);
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "visible" && missed) refresh();
  });
  schedule();
})();
