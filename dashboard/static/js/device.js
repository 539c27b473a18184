// Device charts: one Apache ECharts time series per metric, from GET /api/v1/devices/{id}/history.
// Times are drawn in the estate's zone (chart_kit.js); a state metric is a step line with the catalogue's label
// of each code on the value axis (上行, not 1). Each range is served at the resolution the server chose for it
// (raw, 1-minute or hourly rollups); zooming below FINE_ZOOM into an hourly chart reloads the window in 1-minute
// buckets.
// Charts are drawn when they scroll into view, so a device with twenty metrics costs one chart's time first.
import { api, i18n } from './api.js';
import { estateClock, fmt, thresholdMarks, timeAxis, valueAxis, valueRange, valueText } from './chart_kit.js';

const config = JSON.parse(document.getElementById('device-config').textContent);
const zone = config.zone;
const charts = new Map(config.charts.map((c) => [c.metric, c]));
let range = config.range;
// First render of each chart after navigation start, read by tests and the page-speed benchmark.
window.deviceCharts = { rendered: {} };

const clock = estateClock(zone);
const { offsetAt, marker, wall, wallText } = clock;

function showError(text) {
  const box = document.getElementById('charts-error');
  box.textContent = text;
  box.hidden = false;
}

async function fetchSeries(metric, startMs, endMs, resolution) {
  const q = new URLSearchParams({ metric, resolution, start: new Date(startMs).toISOString(),
    end: new Date(endMs).toISOString() });
  const series = await api(`/api/v1/devices/${encodeURIComponent(config.device_id)}/history?${q}`);
  // [wall time, value, min, max, real time]
  return series.points.map((p) => {
    const real = Date.parse(p.ts);
    return [wall(real), p.value, p.min ?? null, p.max ?? null, real];
  });
}

function option(chart, points, startMs, endMs, resolution) {
  const { lo, hi } = valueRange(chart, points);
  const { areas, lines } = thresholdMarks(chart, lo, hi, i18n, 'insideEndTop');
  const unit = chart.unit ? ` ${chart.unit}` : '';
  return {
    useUTC: true,
    animation: false,
    textStyle: { fontFamily: getComputedStyle(document.body).fontFamily },
    grid: { left: 8, right: 64, top: 30, bottom: 56, containLabel: true },
    tooltip: {
      trigger: 'axis',
      formatter: (items) => {
        const p = items[0]?.data;
        if (!p) return '';
        const spread = resolution === 'raw' ? '' : `<br>${i18n.min} ${fmt(p[2])} · ${i18n.max} ${fmt(p[3])}`;
        return `${wallText(p[0], p[4])}<br>${chart.name}: <b>${valueText(chart, p[1])}</b>${unit}${resolution === 'raw' ? '' : ` (${i18n.avg})`}${spread}`;
      },
    },
    xAxis: timeAxis(clock, startMs, endMs),
    yAxis: valueAxis(chart, lo, hi),
    dataZoom: [{ type: 'inside', filterMode: 'none' },
      { type: 'slider', filterMode: 'none', height: 18, bottom: 8, borderColor: '#36506e', textStyle: { color: '#8a9bb0' },
        labelFormatter: (v) => wallText(v, v - offsetAt(v) * 60e3).slice(5, 16) }],
    // A sparse series (a young device, a rare event) is drawn as dots big enough to see, not a hairline.
    series: [{ type: 'line', name: chart.name, data: points, showSymbol: points.length < 40, symbolSize: points.length < 10 ? 8 : 5,
      step: chart.state ? 'end' : false, sampling: 'lttb', connectNulls: false, encode: { x: 0, y: 1 },
      lineStyle: { width: 1.5, color: '#4fc3f7' }, itemStyle: { color: '#4fc3f7' },
      markArea: { silent: true, data: areas }, markLine: { silent: true, symbol: 'none', data: lines } }],
  };
}

// One figure's chart: drawn for the current range, redrawn for a zoomed window.
class MetricChart {
  constructor(figure) {
    this.figure = figure;
    this.chart = charts.get(figure.dataset.metric);
    this.box = figure.querySelector('.echart');
    this.empty = figure.querySelector('.dev-empty');
    this.res = figure.querySelector('.dev-res');
    this.reset = figure.querySelector('.dev-reset');
    this.instance = null;
    this.loadId = 0;
    this.reset.addEventListener('click', () => this.load());
  }

  async load() {
    const [spanS, resolution] = config.ranges[range];
    const endMs = Date.now();
    const startMs = endMs - spanS * 1000;
    const id = ++this.loadId;
    this.figure.dataset.state = 'loading';
    this.res.textContent = i18n.loading;
    this.reset.hidden = true;
    let points;
    try {
      points = await fetchSeries(this.chart.metric, startMs, endMs, resolution);
    } catch (err) {
      this.figure.dataset.state = 'failed';
      this.res.textContent = `${i18n.failed}: ${err.message}`;
      return;
    }
    if (id !== this.loadId) return;
    this.window = { startMs, endMs, resolution, points };
    this.draw(points, startMs, endMs, resolution);
  }

  draw(points, startMs, endMs, resolution) {
    this.empty.hidden = points.length > 0;
    this.res.textContent = `${i18n[resolution]} · ${points.length}`;
    Object.assign(this.figure.dataset, { range, resolution, points: String(points.length) });
    if (!this.instance) {
      this.instance = echarts.init(this.box, null, { renderer: 'canvas' });
      this.instance.on('datazoom', () => this.zoomed());
      this.instance.on('finished', () => {
        this.figure.dataset.state = 'ready';
        window.deviceCharts.rendered[this.chart.metric] ??= performance.now();
      });
    }
    this.instance.setOption(option(this.chart, points, startMs, endMs, resolution), { notMerge: true });
  }

  // After a zoom settles: a window under FINE_ZOOM of an hourly chart is reloaded in 1-minute buckets.
  zoomed() {
    clearTimeout(this.zoomTimer);
    this.zoomTimer = setTimeout(async () => {
      const zoom = this.instance.getOption().dataZoom[0];
      const { startMs, endMs, resolution, points } = this.window;
      const span = endMs - startMs;
      const from = startMs + (span * zoom.start) / 100;
      const to = startMs + (span * zoom.end) / 100;
      this.reset.hidden = zoom.start === 0 && zoom.end === 100;
      if (resolution !== '1h' || to - from >= config.fine_zoom_s * 1000) return;
      const id = ++this.loadId;
      let fine;
      try {
        fine = await fetchSeries(this.chart.metric, from, to, '1m');
      } catch (err) {
        this.res.textContent = `${i18n.failed}: ${err.message}`;
        return;
      }
      if (id !== this.loadId) return;
      // Keep the hourly points outside the window so zooming back out still shows the whole range.
      const merged = [...points.filter((p) => p[4] < from), ...fine, ...points.filter((p) => p[4] >= to)];
      this.instance.setOption({ series: [{ data: merged }] });
      this.res.textContent = `${i18n['1m']} · ${fine.length}`;
      Object.assign(this.figure.dataset, { resolution: '1m', points: String(fine.length) });
      this.reset.hidden = false;
    }, 250);
  }
}

if (typeof echarts === 'undefined') {
  showError(i18n.lib_missing);
} else {
  document.getElementById('zone-marker').textContent = marker(offsetAt(Date.now()));
  const figures = [...document.querySelectorAll('figure.dev-chart')].map((f) => new MetricChart(f));
  const seen = new Set();
  const observer = new IntersectionObserver((entries) => {
    for (const entry of entries) {
      if (!entry.isIntersecting) continue;
      const figure = figures.find((f) => f.figure === entry.target);
      if (!seen.has(figure)) { seen.add(figure); figure.load(); }
    }
  }, { rootMargin: '200px' });
  figures.forEach((f) => observer.observe(f.figure));

  for (const button of document.querySelectorAll('[data-range]')) {
    button.addEventListener('click', () => {
      range = button.dataset.range;
      document.querySelectorAll('[data-range]').forEach((b) => b.setAttribute('aria-pressed', String(b === button)));
      const url = new URL(location.href);
      url.searchParams.set('range', range);
      history.replaceState(null, '', url);
      seen.forEach((f) => f.load());
    });
  }
  window.addEventListener('resize', () => figures.forEach((f) => f.instance?.resize()));
}
