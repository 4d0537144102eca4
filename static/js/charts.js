// Draws every <canvas data-chart="..."> on a page (the insights, the client page) with the
// vendored Chart.js. The configuration comes from the server (clients.figures.Table.chart_config)
// in a data attribute, so the pages need no inline script. Each chart has a table of the same
// numbers beside it.
(function () {
  "use strict";

  var dollars = new Intl.NumberFormat("en-US", {
    style: "currency",
    currency: "USD",
    maximumFractionDigits: 0,
  });

  function tick(spec) {
    if (spec.money) {
      return function (value) { return dollars.format(value); };
    }
    if (spec.percent) {
      return function (value) { return value + "%"; };
    }
    return undefined;
  }

  document.querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
    var spec = JSON.parse(canvas.dataset.chart);
    var y = { beginAtZero: true, ticks: {} };
    var format = tick(spec);
    if (format) { y.ticks.callback = format; }
    if (spec.percent) { y.max = 100; }
    if (spec.yLabel) { y.title = { display: true, text: spec.yLabel }; }
    var stacked = spec.data.datasets.some(function (d) { return d.stack; });
    new Chart(canvas, {
      type: spec.type,
      data: spec.data,
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        interaction: { mode: "index", intersect: false },
        scales: { x: { stacked: stacked }, y: Object.assign(y, { stacked: stacked }) },
        plugins: { legend: { position: "bottom" } },
      },
    });
  });
})();
