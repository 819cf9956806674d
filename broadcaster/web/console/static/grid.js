// Keeps the incident page's grid live: each "cells" event replaces the cells that changed.
// Without JavaScript the page still shows the grid as it was (the Refresh link reloads it).
(function () {
  "use strict";
  var grid = document.getElementById("grid");
  if (!grid || !window.EventSource) { return; }
  var url = "/incidents/" + grid.dataset.ref + "/events?update=" + grid.dataset.update;
  var source = new EventSource(url);
  var summary = document.getElementById("summary");
  source.addEventListener("cells", function (event) {
    var data = JSON.parse(event.data);
    Object.keys(data.cells).forEach(function (key) {
      var td = grid.querySelector('td[data-cell="' + key + '"]');
      if (!td) { return; }
      var open = td.querySelector("details[open]") !== null;
      td.innerHTML = data.cells[key].html;  // escaped by the server, which rendered the page too
      td.setAttribute("aria-label", data.cells[key].label);
      var details = td.querySelector("details");
      if (open && details) { details.open = true; }
    });
    if (summary) { summary.textContent = data.summary; }
    grid.dataset.live = "yes";
  });
  source.addEventListener("done", function () {
    source.close();  // every cell is settled; a retry or an update reloads the page
    grid.dataset.live = "done";
  });
})();
