/* Draws the line-health charts from the JSON the page carries (Chart.js, vendored). */
(function () {
  "use strict";
  var source = document.getElementById("chart-data");
  if (!source || !window.Chart) { return; }
  var data = JSON.parse(source.textContent);
  var palette = ["#5b4bdb", "#e39b2d", "#c23b3b", "#94a3b8", "#1f9d6a", "#0ea5e9"];
  Chart.defaults.font.family = getComputedStyle(document.body).fontFamily;
  Chart.defaults.maintainAspectRatio = false;
  Chart.defaults.animation = false;

  function draw(id, config) {
    var canvas = document.getElementById(id);
    if (canvas) { canvas.chart = new Chart(canvas, config); }
  }
  function minutes(seconds) { return seconds === null ? null : Math.round(seconds / 6) / 10; }

  var groups = Object.keys(data.volume);
  draw("chart-volume", {
    type: "bar",
    data: {
      labels: data.labels,
      datasets: groups.map(function (name, i) {
        return { label: name, data: data.volume[name], backgroundColor: palette[i % palette.length], stack: "calls" };
      })
    },
    options: { scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true, ticks: { precision: 0 } } } }
  });
  draw("chart-wait", {
    type: "line",
    data: {
      labels: data.labels,
      datasets: [
        { label: "p50 (minutes)", data: data.p50.map(minutes), borderColor: palette[0], backgroundColor: palette[0], spanGaps: true },
        { label: "p90 (minutes)", data: data.p90.map(minutes), borderColor: palette[1], backgroundColor: palette[1], spanGaps: true }
      ]
    },
    options: { scales: { y: { beginAtZero: true, title: { display: true, text: "minutes" } } } }
  });
  draw("chart-share", {
    type: "doughnut",
    data: {
      labels: Object.keys(data.share),
      datasets: [{ data: Object.values(data.share), backgroundColor: palette }]
    },
    options: { plugins: { legend: { position: "right" } } }
  });
  draw("chart-lengths", {
    type: "bar",
    data: {
      labels: Object.keys(data.lengths),
      datasets: [{ label: "Conversations", data: Object.values(data.lengths), backgroundColor: palette[4] }]
    },
    options: { plugins: { legend: { display: false } }, scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } }
  });
  draw("chart-attendance", {
    type: "bar",
    data: {
      labels: Object.keys(data.attendance),
      datasets: [{ label: "Guests", data: Object.values(data.attendance), backgroundColor: palette[0] }]
    },
    options: { plugins: { legend: { display: false } }, scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } }
  });
  document.body.setAttribute("data-charts", "ready");
})();
