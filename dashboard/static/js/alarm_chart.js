// The alarm page's readings: one Apache ECharts chart per metric the server chose (the rule's metric, or for an
// event rule the device's first few), from 30 min before the alarm to 30 min after it cleared or to now, in the
// estate's wall-clock time with the zone on the axis (chart_kit.js); the alarm's raise, return to normal,
// acknowledgement and clearing as labelled vertical lines; the rule's threshold as a band beyond its value;
// a measurement as its bucket averages with the minima and maxima dotted; a state metric as steps with the
// catalogue's labels on the value axis.
import { i18n } from './api.js';
import { estateClock, fmt, thresholdMarks, timeAxis, valueAxis, valueRange, valueText } from './chart_kit.js';

const config = JSON.parse(document.getElementById('alarm-charts').textContent);
const clock = estateClock(config.zone);
const startMs = Date.parse(config.start);
const endMs = Date.parse(config.end);
const MOMENT_COLOUR = { activated_at: '#ff5c5c', returned_at: '#7bd88f', acked_at: '#ffd166', dev_alarm_cleared: '#7cc4ff' };

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
  const { lo, hi } = valueRange(chart, points);
  const { areas, lines } = thresholdMarks(chart, lo, hi, i18n, 'insideStartTop');
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
        if (!p) return '';
        const range = chart.state ? '' : `<br>${i18n.min} ${fmt(p[2])} · ${i18n.max} ${fmt(p[3])}`;
        return `${clock.wallText(p[0], p[4])}<br>${chart.name}: <b>${valueText(chart, p[1])}</b>${unit} (${i18n.avg})${range}`;
      },
    },
    xAxis: timeAxis(clock, startMs, endMs),
    yAxis: valueAxis(chart, lo, hi),
    series: [{ type: 'line', name: chart.name, data: points, showSymbol: points.length < 40, symbolSize: 4,
      step: chart.state ? 'end' : false, connectNulls: false, encode: { x: 0, y: 1 },
      lineStyle: { width: 1.5, color: '#4fc3f7' }, itemStyle: { color: '#4fc3f7' },
      markArea: { silent: true, data: areas },
      markLine: { silent: true, symbol: 'none', data: [...momentLines(), ...lines] } }, ...spread(chart, points)],
  };
}

// A measurement's lowest and highest reading of each bucket as faint dotted lines: a peak of a few seconds
// (what an overspeed is) hides in a 30-second average.
function spread(chart, points) {
  if (chart.state) return [];
  return [[2, i18n.min], [3, i18n.max]].map(([column, name]) => ({ type: 'line', name, data: points,
    encode: { x: 0, y: column }, showSymbol: false, silent: true, connectNulls: false,
    lineStyle: { width: 1, type: 'dotted', color: '#4fc3f7', opacity: 0.6 } }));
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
