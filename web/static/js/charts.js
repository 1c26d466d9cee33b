// The audit charts: routes per day, safeguarding levels, review and override rates.
// Data comes from the JSON endpoint named in #charts[data-source] (no inline script: CSP).
(function () {
  'use strict';

  // NHS identity colours, one per route, most urgent the warmest.
  var ROUTE_COLOURS = {
    emergency: '#d5281b', rapid_response: '#ed8b00', mdt: '#ffb81c',
    voluntary_sector: '#007f3b', self_care: '#005eb8', out_of_scope: '#768692'
  };
  var LEVEL_COLOURS = ['#aeb7bd', '#ffb81c', '#ed8b00', '#d5281b'];

  function barChart(canvas, labels, datasets, stacked) {
    return new window.Chart(canvas, {
      type: 'bar',
      data: { labels: labels, datasets: datasets },
      options: {
        maxBarThickness: 64,
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        scales: {
          x: { stacked: stacked },
          y: { stacked: stacked, beginAtZero: true, ticks: { precision: 0 } }
        },
        plugins: { legend: { display: datasets.length > 1, position: 'bottom' } }
      }
    });
  }

  function draw(data) {
    var routes = document.getElementById('chart-routes');
    if (routes) {
      barChart(routes, data.routes_per_day.labels, data.routes_per_day.datasets.map(function (ds) {
        return { label: ds.label, data: ds.data, backgroundColor: ROUTE_COLOURS[ds.key] || '#425563' };
      }), true);
    }
    var levels = document.getElementById('chart-safeguarding');
    if (levels) {
      barChart(levels, data.safeguarding.labels, [{
        label: 'Contacts', data: data.safeguarding.data, backgroundColor: LEVEL_COLOURS
      }], false);
    }
    var rates = document.getElementById('chart-rates');
    if (rates) {
      new window.Chart(rates, {
        type: 'line',
        data: {
          labels: data.rates.labels,
          datasets: [
            { label: 'Review required (%)', data: data.rates.review_required, borderColor: '#ed8b00',
              backgroundColor: '#ed8b00', tension: 0 },
            { label: 'Overridden (%)', data: data.rates.overridden, borderColor: '#330072',
              backgroundColor: '#330072', tension: 0 }
          ]
        },
        options: {
          responsive: true, maintainAspectRatio: false, animation: false, spanGaps: false,
          scales: { y: { beginAtZero: true, suggestedMax: 100 } },
          plugins: {
            legend: { position: 'bottom' },
            // The count beside the percentage: "Overridden: 25% (3 of 12)".
            tooltip: { callbacks: { label: function (item) {
              var counts = item.datasetIndex === 0 ? data.rates.review_required_count : data.rates.overridden_count;
              return item.dataset.label.replace(' (%)', '') + ': ' + item.formattedValue + '% (' +
                counts[item.dataIndex] + ' of ' + data.rates.totals[item.dataIndex] + ')';
            } } }
          }
        }
      });
    }
    document.getElementById('charts').setAttribute('data-drawn', 'true');
  }

  function start() {
    var holder = document.getElementById('charts');
    if (!holder || !window.Chart) { return; }
    window.Chart.defaults.font.family = 'arial, sans-serif';
    window.Chart.defaults.font.size = 14;
    window.Chart.defaults.color = '#212b32';
    fetch(holder.getAttribute('data-source'), {
      credentials: 'same-origin', headers: { Accept: 'application/json' }
    }).then(function (response) {
      if (!response.ok) { throw new Error('chart data: HTTP ' + response.status); }
      return response.json();
    }).then(draw).catch(function () {
      holder.setAttribute('data-drawn', 'failed'); // the tables still show the numbers
    });
  }

  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', start);
  } else {
    start();
  }
}());
