// What the device charts and the alarm chart share: the estate's wall clock for ECharts and the value axis of a
// state metric. ECharts runs in UTC mode and each timestamp is shifted by the estate's offset at that instant,
// so the axis shows the estate's wall clock whatever zone the browser is in; the axis names the offset (UTC+8).

// The estate's clock for ``zone`` (an IANA name): offsets, the zone marker, shifted times and their text.
export function estateClock(zone) {
  const offsetFormat = new Intl.DateTimeFormat('en-US', { timeZone: zone, timeZoneName: 'longOffset' });
  const offsets = new Map();

  // The estate's UTC offset in minutes at instant ``ms`` (memoised per hour: zones change offset on the hour).
  function offsetAt(ms) {
    const hour = Math.floor(ms / 3.6e6);
    if (!offsets.has(hour)) {
      const name = offsetFormat.formatToParts(new Date(hour * 3.6e6)).find((p) => p.type === 'timeZoneName').value;
      const m = /GMT([+-])(\d\d):(\d\d)/.exec(name);
      offsets.set(hour, m ? (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3])) : 0);
    }
    return offsets.get(hour);
  }

  function marker(minutes) {
    const sign = minutes < 0 ? '-' : '+';
    const abs = Math.abs(minutes);
    const rest = abs % 60;
    return minutes === 0 ? 'UTC' : `UTC${sign}${Math.floor(abs / 60)}${rest ? `:${String(rest).padStart(2, '0')}` : ''}`;
  }

  const wall = (ms) => ms + offsetAt(ms) * 60e3;
  const pad = (n) => String(n).padStart(2, '0');

  // A shifted (wall-clock) time as text, with the estate's offset at the real instant.
  function wallText(wallMs, realMs) {
    const d = new Date(wallMs);
    return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:`
      + `${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} ${marker(offsetAt(realMs))}`;
  }

  return { offsetAt, marker, wall, wallText, markerAt: (ms) => marker(offsetAt(ms)) };
}

export const fmt = (v) => (v === null || v === undefined ? '—' : Number(v.toPrecision(4)).toString());

// The time axis in estate wall-clock time, named with the zone marker.
export function timeAxis(clock, startMs, endMs) {
  return { type: 'time', min: clock.wall(startMs), max: clock.wall(endMs), name: clock.markerAt(endMs),
    nameTextStyle: { color: '#8a9bb0' }, axisLabel: { color: '#8a9bb0', hideOverlap: true, formatter: {
      year: '{yyyy}', month: '{yyyy}-{MM}', day: '{MM}-{dd}', hour: '{HH}:{mm}', minute: '{HH}:{mm}',
      second: '{HH}:{mm}:{ss}', millisecond: '{HH}:{mm}:{ss}', none: '{MM}-{dd} {HH}:{mm}' } },
    axisLine: { lineStyle: { color: '#36506e' } }, splitLine: { show: false } };
}

// A value as the reader says it: a state metric's label with its code (下行 (2)), else the number.
export function valueText(chart, v) {
  const label = new Map(chart.labels ?? []).get(v);
  return label === undefined ? fmt(v) : `${label} (${v})`;
}

// The span of the value axis: every value and threshold of the chart with a margin; whole codes for a state.
// ``points`` are [time, value, min, max, …].
export function valueRange(chart, points) {
  const values = points.flatMap((p) => [p[1], p[2], p[3]]).filter((v) => v !== null);
  const all = [...values, ...chart.bands.map((b) => b.value)];
  let lo = all.length ? Math.min(...all) : 0;
  let hi = all.length ? Math.max(...all) : 1;
  const margin = (hi - lo) * 0.08 || Math.abs(hi) * 0.1 || 1;
  lo -= margin;
  hi += margin;
  return chart.state ? { lo: Math.floor(lo), hi: Math.ceil(hi) } : { lo, hi };
}

// The value axis: for a state metric with labels one tick per code, each named by the catalogue's label (上行,
// not 1); else numbers from ``lo`` to ``hi`` with the unit as the axis name.
export function valueAxis(chart, lo, hi) {
  if (!chart.labels?.length) {
    return { type: 'value', min: Number(lo.toPrecision(6)), max: Number(hi.toPrecision(6)), name: chart.unit,
      minInterval: chart.state ? 1 : 0, nameTextStyle: { color: '#8a9bb0' },
      // the margins are not round numbers (1.08 above a tick of 1): only the ticks are labelled
      axisLabel: { color: '#8a9bb0', formatter: (v) => fmt(v), showMinLabel: false, showMaxLabel: false },
      splitLine: { lineStyle: { color: '#1d2a3a' } } };
  }
  const labels = new Map(chart.labels);
  const codes = chart.labels.map(([code]) => code);
  return { type: 'value', min: Math.min(...codes), max: Math.max(...codes), interval: 1,
    axisLabel: { color: '#8a9bb0', formatter: (v) => labels.get(v) ?? '' }, splitLine: { lineStyle: { color: '#1d2a3a' } } };
}

// Threshold bands: the alarm region above (or below) each rule's value, and a line at the value labelled with
// the severity and ``words.above``/``words.below``, at ``position`` along it.
export function thresholdMarks(chart, lo, hi, words, position) {
  const areas = [];
  const lines = [];
  for (const b of chart.bands) {
    const colour = getComputedStyle(document.documentElement).getPropertyValue(`--${b.severity.toLowerCase()}`).trim() || '#ff9f1a';
    const edge = b.direction === 'above' ? hi : lo;
    areas.push([{ yAxis: b.value, itemStyle: { color: colour, opacity: 0.14 } }, { yAxis: edge }]);
    lines.push({ yAxis: b.value, lineStyle: { color: colour, type: 'dashed' },
      label: { formatter: `${b.severity} ${words[b.direction]} ${fmt(b.value)}`, color: colour, position } });
  }
  return { areas, lines };
}
