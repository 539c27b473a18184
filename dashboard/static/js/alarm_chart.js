// The alarm page's readings: one Apache ECharts chart per metric the server chose (the rule's metric, or for an
// event rule the device's first few), from 30 min before the alarm to 30 min after it cleared or to now, in the
// estate's wall-clock time with the zone on the axis (chart_kit.js); the alarm's raise, return to normal,
// acknowledgement and clearing as labelled vertical lines; the rule's threshold as a band beyond its value;
// a state metric as steps with the catalogue's labels on the value axis.
import { i18n } from './api.js';
import { estateClock, fmt, labelAxis, timeAxis, valueText } from './chart_kit.js';

const config = JSON.parse(document.getElementById('alarm-charts').textContent);
const clock = estateClock(config.zone);
const startMs = Date.parse(config.start);
const endMs = Date.parse(config.end);
const MOMENT_COLOUR = { activated_at: '#ff5c5c', returned_at: '#7bd88f', acked_at: '#ffd166', dev_alarm_cleared: '#7cc4ff' };

function colourOf(severity) {
  return getComputedStyle(document.documentElement).getPropertyValue(`--${severity.toLowerCase()}`).trim() || '#ff9f1a';
}

// The alarm's moments as vertical lines on the time axis, each labelled above the plot with what happened; the
// labels are stacked, since an acknowledgement often follows the raise within seconds.
const LABEL_STEP = 14;
function momentLines() {
  return config.moments.map((m, n) => {
    const real = Date.parse(m.at);
    const colour = MOMENT_COLOUR[m.kind] ?? '#8a9bb0';
    return { xAxis: clock.wall(real), name: m.kind, lineStyle: { color: colour, type: 'solid', width: 1.5 },
      label: { formatter: i18n.moments[m.kind], color: colour, position: 'end', distance: 4 + n * LABEL_STEP,
        fontSize: 11 } };
  });
}

function option(chart, points) {
  const values = points.flatMap((p) => [p[1], p[2], p[3]]).filter((v) => v !== null);
  const all = [...values, ...chart.bands.map((b) => b.value)];
  let lo = all.length ? Math.min(...all) : 0;
  let hi = all.length ? Math.max(...all) : 1;
  const margin = (hi - lo) * 0.08 || Math.abs(hi) * 0.1 || 1;
  lo -= margin;
  hi += margin;
  const bandAreas = chart.bands.map((b) => [{ yAxis: b.value, itemStyle: { color: colourOf(b.severity), opacity: 0.14 } },
    { yAxis: b.direction === 'above' ? hi : lo }]);
  const bandLines = chart.bands.map((b) => ({ yAxis: b.value, lineStyle: { color: colourOf(b.severity), type: 'dashed' },
    label: { formatter: `${b.severity} ${i18n[b.direction]} ${fmt(b.value)}`, color: colourOf(b.severity), position: 'insideStartTop' } }));
  const unit = chart.unit ? ` ${chart.unit}` : '';
  return {
    useUTC: true,
    animation: false,
    textStyle: { fontFamily: getComputedStyle(document.body).fontFamily },
    grid: { left: 8, right: 64, top: 34 + config.moments.length * LABEL_STEP, bottom: 16, containLabel: true },
    tooltip: {
      trigger: 'axis',
      formatter: (items) => {
        const p = items[0]?.data;
        return p ? `${clock.wallText(p[0], p[4])}<br>${chart.name}: <b>${valueText(chart, p[1])}</b>${unit} (${i18n.avg})` : '';
      },
    },
    xAxis: timeAxis(clock, startMs, endMs),
    yAxis: labelAxis(chart) ?? { type: 'value', min: Number(lo.toPrecision(6)), max: Number(hi.toPrecision(6)),
      name: chart.unit, nameTextStyle: { color: '#8a9bb0' }, minInterval: chart.state ? 1 : 0,
      axisLabel: { color: '#8a9bb0', formatter: (v) => fmt(v) }, splitLine: { lineStyle: { color: '#1d2a3a' } } },
    series: [{ type: 'line', name: chart.name, data: points, showSymbol: points.length < 40, symbolSize: 4,
      step: chart.state ? 'end' : false, connectNulls: false, encode: { x: 0, y: 1 },
      lineStyle: { width: 1.5, color: '#4fc3f7' }, itemStyle: { color: '#4fc3f7' },
      markArea: { silent: true, data: bandAreas },
      markLine: { silent: true, symbol: 'none', data: [...momentLines(), ...bandLines] } }],
  };
}

if (typeof echarts === 'undefined') {
  const box = document.getElementById('charts-error');
  box.textContent = i18n.lib_missing;
  box.hidden = false;
} else {
  const instances = [];
  for (const chart of config.charts) {
    const figure = document.getElementById(`chart-${chart.metric}`);
    // [wall time, avg, min, max, real time]
    const points = chart.points.map(([ts, avg, min, max]) => {
      const real = Date.parse(ts);
      return [clock.wall(real), avg, min, max, real];
    });
    const instance = echarts.init(figure.querySelector('.echart'), null, { renderer: 'canvas' });
    instance.on('finished', () => { figure.dataset.state = 'ready'; });
    instance.setOption(option(chart, points));
    instances.push(instance);
  }
  window.addEventListener('resize', () => instances.forEach((i) => i.resize()));
}
