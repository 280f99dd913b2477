/* Draws the line-health charts from the JSON the page carries (Chart.js, vendored). */
(function () {
  "use strict";
  var source = document.getElementById("chart-data");
  if (!source || !window.Chart) { return; }
  var data = JSON.parse(source.textContent);
  var palette = ["#5b4bdb", "#e39b2d", "#c23b3b", "#94a3b8", "#1f9d6a"];
  Chart.defaults.font.family = getComputedStyle(document.body).fontFamily;
  Chart.defaults.maintainAspectRatio = false;
  Chart.defaults.animation = false;

  function draw(id, config) {
    var canvas = document.getElementById(id);
    if (canvas) { canvas.chart = new Chart(canvas, config); }
  }
  function labels(pairs) { return pairs.map(function (p) { return p[0]; }); }
  function values(pairs) { return pairs.map(function (p) { return p[1]; }); }
  function seconds(value) { return value === null ? null : Math.round(value); }
  var colours = { "paired": "#5b4bdb", "timed_out": "#e39b2d", "hung_up_waiting": "#c23b3b", "other": "#94a3b8" };
  var words = data.words;
  draw("chart-volume", {
    type: "bar",
    data: {
      labels: data.labels,
      datasets: data.volume.map(function (pair, i) {
        return { label: pair[0], data: pair[1], backgroundColor: colours[data.volume_keys[i]] || "#94a3b8", stack: "calls" };
      })
    },
    options: { scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true, ticks: { precision: 0 } } } }
  });
  draw("chart-languages-volume", {
    type: "bar",
    data: {
      labels: data.labels,
      datasets: data.languages.map(function (pair, i) {
        return { label: pair[0], data: pair[1], backgroundColor: palette[i % palette.length] };
      })
    },
    options: { scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } }
  });
  draw("chart-wait", {
    type: "line",
    data: {
      labels: data.labels,
      datasets: [
        { label: "p50", data: data.p50.map(seconds), borderColor: palette[0], backgroundColor: palette[0], spanGaps: true },
        { label: "p90", data: data.p90.map(seconds), borderColor: palette[1], backgroundColor: palette[1], spanGaps: true }
      ]
    },
    options: { scales: { y: { beginAtZero: true, title: { display: true, text: words.seconds } } } }
  });
  draw("chart-share", {
    type: "doughnut",
    data: {
      labels: labels(data.share),
      datasets: [{ data: values(data.share), backgroundColor: data.share_keys.map(function (k) { return colours[k] || "#94a3b8"; }) }]
    },
    options: { plugins: { legend: { position: "right" } } }
  });
  draw("chart-lengths", {
    type: "bar",
    data: {
      labels: labels(data.lengths),
      datasets: [{ label: words.conversations, data: values(data.lengths), backgroundColor: palette[4], maxBarThickness: 64 }]
    },
    options: { plugins: { legend: { display: false } }, scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } }
  });
  draw("chart-attendance", {
    type: "bar",
    data: {
      labels: labels(data.attendance),
      datasets: [{ label: words.guests, data: values(data.attendance), backgroundColor: palette[0], maxBarThickness: 64 }]
    },
    options: { plugins: { legend: { display: false } }, scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } }
  });
  document.body.setAttribute("data-charts", "ready");
})();
