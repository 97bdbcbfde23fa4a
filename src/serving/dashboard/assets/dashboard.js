// Renders the Customer Health Overview from window.C360_DASHBOARD (data.js, written by `c360 dashboard`) with
// Chart.js. Runs from disk (file://) or any static host: no fetch, no CDN.
(function () {
  'use strict';
  var data = window.C360_DASHBOARD;
  var count = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
  var money = new Intl.NumberFormat('en-US', { style: 'currency', currency: 'USD', maximumFractionDigits: 0 });
  var pct = new Intl.NumberFormat('en-US', { style: 'percent', maximumFractionDigits: 1 });
  var dec = new Intl.NumberFormat('en-US', { maximumFractionDigits: 2 });
  var palette = ['#2f6fdf', '#e8833a', '#3a9d5d', '#c43d4b', '#8a5cd0', '#d4a72c', '#3aa6b9', '#7b8794', '#b5487a', '#5c7c2e'];
  Chart.defaults.animation = false;
  Chart.defaults.maintainAspectRatio = false;
  Chart.defaults.font.size = 11;

  function text(id, value) { document.getElementById(id).textContent = value; }
  function el(tag, attrs, children) {
    var e = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { if (k === 'text') e.textContent = attrs[k]; else e.setAttribute(k, attrs[k]); });
    (children || []).forEach(function (c) { e.appendChild(c); });
    return e;
  }
  function chart(name, config) {
    var canvas = document.querySelector('canvas[data-chart="' + name + '"]');
    var c = new Chart(canvas, config);
    canvas.setAttribute('data-rendered', String(config.data.datasets.reduce(function (n, d) { return n + d.data.length; }, 0)));
    return c;
  }
  function axis(title, format) {
    return { beginAtZero: true, title: { display: !!title, text: title }, ticks: format ? { callback: function (v) { return format.format(v); } } : {} };
  }

  text('as-of', data.asOf);
  text('generated-at', new Date(data.generatedAt).toISOString().replace('T', ' ').slice(0, 16) + ' UTC');

  var h = data.headline;
  [
    ['customers', 'Customers', h.customers, count],
    ['activeCustomers30d', 'Active in the last 30 days', h.activeCustomers30d, count],
    ['totalRevenue', 'Lifetime revenue', h.totalRevenue, money],
    ['atRiskCustomers', 'At risk (churn risk ≥ 50%)', h.atRiskCustomers, count],
    ['avgChurnRisk', 'Average churn risk', h.avgChurnRisk, pct],
    ['predictedClv', 'Predicted CLV (horizon)', h.predictedClv, money],
  ].forEach(function (k) {
    document.getElementById('kpis').appendChild(el('div', { class: 'kpi', 'data-kpi': k[0], 'data-value': k[2] === null ? '' : String(k[2]) }, [
      el('span', { class: 'value', text: k[2] === null ? '–' : k[3].format(k[2]) }),
      el('span', { class: 'label', text: k[1] }),
    ]));
  });

  chart('customers', {
    type: 'line',
    data: {
      labels: data.customersOverTime.map(function (r) { return r.period; }),
      datasets: [
        { label: 'Customers', data: data.customersOverTime.map(function (r) { return r.customers; }), borderColor: palette[0], backgroundColor: palette[0] },
        { label: 'Active in the week', data: data.customersOverTime.map(function (r) { return r.active; }), borderColor: palette[1], backgroundColor: palette[1] },
      ],
    },
    options: { scales: { y: axis('people', count) } },
  });

  chart('churn', {
    type: 'bar',
    data: {
      labels: data.churnDistribution.map(function (r) { var p = r.bin.split('-'); return pct.format(+p[0]) + '–' + pct.format(+p[1]); }),
      datasets: [{ label: 'Customers', data: data.churnDistribution.map(function (r) { return r.customers; }),
        backgroundColor: data.churnDistribution.map(function (_r, i) { return i >= 5 ? palette[3] : palette[2]; }) }],
    },
    options: { plugins: { legend: { display: false } }, scales: { y: axis('people', count), x: { title: { display: true, text: 'churn risk' } } } },
  });

  var atRisk = document.getElementById('at-risk');
  atRisk.appendChild(el('tr', {}, ['Customer', 'Name', 'Segment', 'Churn risk', 'Predicted CLV', 'Revenue'].map(function (t, i) { return el('th', { class: i >= 3 ? 'n' : '', text: t }); })));
  data.atRisk.forEach(function (r) {
    atRisk.appendChild(el('tr', {}, [
      el('td', { text: r.CUSTOMER360_ID }), el('td', { text: r.FIRST_NAME || '' }), el('td', { text: r.SEGMENT_LABEL || '' }),
      el('td', { class: 'n', text: pct.format(r.CHURN_RISK) }), el('td', { class: 'n', text: r.PREDICTED_CLV === null ? '' : money.format(r.PREDICTED_CLV) }),
      el('td', { class: 'n', text: money.format(r.TOTAL_REVENUE) }),
    ]));
  });
  if (data.atRisk.length === 0) atRisk.appendChild(el('tr', {}, [el('td', { colspan: '6', text: 'No customer with purchases has a churn score yet.' })]));

  chart('clv', {
    type: 'bar',
    data: {
      labels: data.clvDeciles.map(function (r) { return 'D' + r.decile; }),
      datasets: [{ label: 'Average predicted CLV', data: data.clvDeciles.map(function (r) { return r.avgClv; }), backgroundColor: palette[4] }],
    },
    options: { plugins: { legend: { display: false } }, scales: { y: axis('average CLV', money) } },
  });

  chart('segments', {
    type: 'bar',
    data: {
      labels: data.segments.map(function (r) { return r.segment; }),
      datasets: [
        { label: 'Customers', data: data.segments.map(function (r) { return r.customers; }), backgroundColor: palette[0], yAxisID: 'y' },
        { label: 'Revenue', data: data.segments.map(function (r) { return r.revenue; }), backgroundColor: palette[5], yAxisID: 'y1' },
      ],
    },
    options: { scales: { y: axis('people', count), y1: Object.assign(axis('revenue', money), { position: 'right', grid: { drawOnChartArea: false } }) } },
  });

  var maxRfm = Math.max.apply(null, [1].concat(data.rfmGrid.map(function (r) { return r.customers; })));
  chart('rfm', {
    type: 'bubble',
    data: {
      datasets: [{ label: 'Customers', backgroundColor: 'rgba(47,111,223,.55)',
        data: data.rfmGrid.map(function (r) { return { x: r.r, y: r.f, r: 4 + 16 * Math.sqrt(r.customers / maxRfm), n: r.customers, rev: r.avgRevenue }; }) }],
    },
    options: {
      plugins: { legend: { display: false }, tooltip: { callbacks: { label: function (c) { return count.format(c.raw.n) + ' customers, average revenue ' + money.format(c.raw.rev); } } } },
      scales: { x: { min: 0.5, max: 5.5, ticks: { stepSize: 1 }, title: { display: true, text: 'recency score (5 = most recent)' } }, y: { min: 0.5, max: 5.5, ticks: { stepSize: 1 }, title: { display: true, text: 'frequency score (5 = most orders)' } } },
    },
  });

  var f = data.funnel;
  chart('funnel', {
    type: 'bar',
    data: {
      labels: ['Viewed', 'Added to cart', 'Purchased'],
      datasets: [{ label: 'People (daily, summed)', data: [f.viewers, f.cartAdders, f.purchasers], backgroundColor: [palette[0], palette[1], palette[2]] }],
    },
    options: {
      indexAxis: 'y',
      plugins: { legend: { display: false }, tooltip: { callbacks: { label: function (c) { return count.format(c.raw) + (f.viewers ? ' (' + pct.format(c.raw / f.viewers) + ' of viewers)' : ''); } } } },
      scales: { x: axis('people', count) },
    },
  });

  chart('campaigns', {
    type: 'bar',
    data: {
      labels: data.campaigns.map(function (r) { return r.name || r.id; }),
      datasets: [{ label: 'ROI', data: data.campaigns.map(function (r) { return r.roi === null ? 0 : r.roi; }),
        backgroundColor: data.campaigns.map(function (r) { return (r.roi || 0) >= 0 ? palette[2] : palette[3]; }) }],
    },
    options: { plugins: { legend: { display: false } }, scales: { y: { title: { display: true, text: 'ROI' }, ticks: { callback: function (v) { return pct.format(v); } } } } },
  });

  chart('service', {
    type: 'bar',
    data: {
      labels: data.service.map(function (r) { return r.category; }),
      datasets: [
        { label: 'Tickets', data: data.service.map(function (r) { return r.tickets; }), backgroundColor: palette[0], yAxisID: 'y' },
        { label: 'Avg resolution (hours)', type: 'line', data: data.service.map(function (r) { return r.avgResolutionMinutes === null ? null : r.avgResolutionMinutes / 60; }), borderColor: palette[1], backgroundColor: palette[1], yAxisID: 'y1' },
        { label: 'Avg satisfaction (1-5)', type: 'line', data: data.service.map(function (r) { return r.avgSatisfaction; }), borderColor: palette[2], backgroundColor: palette[2], yAxisID: 'y2' },
      ],
    },
    options: { scales: { y: axis('tickets', count), y1: Object.assign(axis('hours', dec), { position: 'right', grid: { drawOnChartArea: false } }), y2: { display: false, min: 0, max: 5 } } },
  });

  chart('quality', {
    type: 'bar',
    data: {
      labels: data.runs.map(function (r) { return r.startedAt.slice(0, 16).replace('T', ' '); }),
      datasets: [
        { label: 'Quarantine rate', type: 'line', data: data.runs.map(function (r) { return r.quarantineRate; }), borderColor: palette[3], backgroundColor: palette[3], yAxisID: 'y1' },
        { label: 'DQ-flagged rows', data: data.runs.map(function (r) { return r.flaggedRows; }), backgroundColor: palette[5], yAxisID: 'y' },
        { label: 'Identity merges', data: data.runs.map(function (r) { return r.merged; }), backgroundColor: palette[4], yAxisID: 'y' },
      ],
    },
    options: { scales: { y: axis('rows / records', count), y1: Object.assign(axis('quarantined', pct), { position: 'right', grid: { drawOnChartArea: false } }) } },
  });

  var models = document.getElementById('models');
  models.appendChild(el('tr', {}, ['Model', 'Version', 'Type', 'Trained', 'Metrics'].map(function (t) { return el('th', { text: t }); })));
  data.models.forEach(function (m) {
    models.appendChild(el('tr', {}, [
      el('td', { text: m.name }), el('td', { text: m.version }), el('td', { text: m.type || '' }), el('td', { text: m.trainedAt ? m.trainedAt.slice(0, 10) : '' }),
      el('td', { text: Object.keys(m.metrics).map(function (k) { return k + ' ' + dec.format(m.metrics[k]); }).join(' · ') }),
    ]));
  });
  document.body.setAttribute('data-ready', 'true');
})();
