"""Device pages: an ECharts time series per metric, in the estate's time with its zone, with units, zh-CN names,
the rules' thresholds as bands, ranges from 1 h to 90 days at the resolution each is served at, and zoom."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import expect

from gateway.protocol.catalog import catalog
from ingest import registry
from ingest.database import connect
from ingest.records import Batch
from ingest.writer import Writer
from tests.dashboard.world import World

from .conftest import login

pytestmark = pytest.mark.browser

SPEED = 'figure[data-metric="speed"]'


@pytest.fixture(scope="module", autouse=True)
def readings(world: World) -> None:
    """The first lift's speed, load and door state: every 10 minutes for 90 days, every 10 s in the last hour;
    its direction (up, then down for the last 10 minutes) in the last hour."""
    now = datetime.now(UTC).replace(microsecond=0)
    times = [now - timedelta(minutes=10 * i) for i in range(1, 90 * 144)] + \
            [now - timedelta(seconds=10 * i) for i in range(360)]
    rows = []
    for ts in times:
        phase = ts.timestamp() / 3600
        rows += [(world.elevator_id, "speed", ts, round(1.2 + 0.5 * math.sin(phase), 2)),
                 (world.elevator_id, "load", ts, round(400 + 300 * math.sin(phase / 3), 0)),
                 (world.elevator_id, "door_status", ts, 1.0 + (int(phase * 6) % 2))]
        if now - ts < timedelta(hours=1):
            rows.append((world.elevator_id, "car_direction", ts, 2.0 if now - ts <= timedelta(minutes=10) else 1.0))
    with connect(world.database_url) as conn:
        Writer(conn).write(Batch.of_readings(rows))
        conn.commit()


def chart_option(page, metric: str) -> dict:
    """The option ECharts is drawing for ``metric`` (what the canvas shows)."""
    return page.evaluate(
        """(metric) => {
             const o = echarts.getInstanceByDom(document.querySelector(`#chart-${metric} .echart`)).getOption();
             return {xName: o.xAxis[0].name, yName: o.yAxis[0].name, areas: o.series[0].markArea.data,
                     lines: o.series[0].markLine.data, points: o.series[0].data.length};
           }""", metric)


def open_device(browser, base_url: str, world: World, **kw):
    page = login(browser, base_url, world, "operator", **kw)
    page.goto(f"/devices/{world.elevator_id}")
    page.locator(SPEED).scroll_into_view_if_needed()  # charts are drawn as they scroll into view
    expect(page.locator(SPEED)).to_have_attribute("data-state", "ready")
    return page


def test_a_chart_names_the_metric_in_chinese_with_its_unit_and_the_estate_zone(browser, base_url: str,
                                                                                world: World, shot) -> None:
    page = open_device(browser, base_url, world)
    expect(page.locator(f"{SPEED} figcaption")).to_contain_text("轿厢速度 (m/s)")
    expect(page.locator("#zone-marker")).to_have_text("UTC+8")
    option = chart_option(page, "speed")
    assert (option["xName"], option["yName"]) == ("UTC+8", "m/s")
    shot(page, "dev-01-device-24h")


def test_the_latest_values_are_in_estate_time_with_the_zone_marker(browser, base_url: str, world: World) -> None:
    page = open_device(browser, base_url, world)
    expect(page.locator('#latest tr[data-metric="speed"]')).to_contain_text("UTC+8")
    expect(page.locator('#latest tr[data-metric="speed"]')).to_contain_text("m/s")


def test_a_state_reads_as_its_meaning_with_the_raw_code_on_hover(browser, base_url: str, world: World,
                                                                   shot) -> None:
    page = open_device(browser, base_url, world)
    row = page.locator('#latest tr[data-metric="car_direction"]')
    expect(row).to_contain_text("运行方向")
    expect(row.locator(".state-label")).to_have_text("下行")
    expect(row.locator(".state-label")).to_have_attribute("title", "原始代码 2")
    assert "2" not in row.locator("td.num").inner_text()
    shot(page, "dev-05-device-states")


def test_a_state_chart_is_a_step_line_with_the_meanings_on_its_value_axis(browser, base_url: str,
                                                                          world: World, shot) -> None:
    page = open_device(browser, base_url, world)
    figure = page.locator('figure[data-metric="car_direction"]')
    figure.scroll_into_view_if_needed()
    expect(figure).to_have_attribute("data-state", "ready")
    axis = page.evaluate("""() => {
        const chart = echarts.getInstanceByDom(document.querySelector('#chart-car_direction .echart'));
        const o = chart.getOption();
        return {step: o.series[0].step, min: o.yAxis[0].min, max: o.yAxis[0].max,
                labels: [0, 1, 2].map((v) => o.yAxis[0].axisLabel.formatter(v))};
      }""")
    assert axis == {"step": "end", "min": 0, "max": 2, "labels": ["无方向", "上行", "下行"]}
    shot(page, "dev-06-device-state-chart")


def test_the_device_names_its_estate_and_building_with_the_ids_secondary(browser, base_url: str,
                                                                         world: World) -> None:
    page = open_device(browser, base_url, world)
    expect(page.locator("#place .building")).to_have_text("1号楼")
    expect(page.locator("#place .building")).to_have_attribute("title", world.building_id)
    expect(page.locator("#place")).to_contain_text("锦绣花园")
    expect(page.locator("h1")).not_to_contain_text(world.elevator_id)
    expect(page.locator("#place small")).to_contain_text(world.elevator_id)


def test_the_overspeed_rule_is_a_band_above_its_threshold(browser, base_url: str, world: World) -> None:
    page = open_device(browser, base_url, world)
    # elevator.overspeed: 1.2 × the lift's rated speed of 1.75 m/s
    expect(page.locator(f"{SPEED} .dev-bands")).to_contain_text("电梯超速: 高于 2.1 m/s")
    option = chart_option(page, "speed")
    assert option["areas"][0][0]["yAxis"] == pytest.approx(2.1)
    assert option["lines"][0]["yAxis"] == pytest.approx(2.1)


def test_every_reported_metric_has_a_chart_and_the_others_are_named(browser, base_url: str, world: World) -> None:
    page = open_device(browser, base_url, world)
    expect(page.locator("figure.dev-chart")).to_have_count(4)  # speed, load, door_status, car_direction
    expect(page.locator('figure[data-metric="door_status"] figcaption')).to_contain_text("门状态")
    silent = len(catalog()["elevator"].metrics) - 4
    expect(page.locator("#silent")).to_contain_text("电机电流")
    assert page.locator("#silent").inner_text().count("、") == silent - 1


@pytest.mark.parametrize(("name", "resolution"), [("1h", "raw"), ("6h", "1m"), ("24h", "1m"), ("7d", "1h"),
                                                  ("30d", "1h"), ("90d", "1h")])
def test_a_range_is_drawn_at_the_resolution_it_is_served_at(browser, base_url: str, world: World,
                                                             name: str, resolution: str) -> None:
    page = open_device(browser, base_url, world)
    page.click(f'button[data-range="{name}"]')
    chart = page.locator(SPEED)
    expect(chart).to_have_attribute("data-range", name)
    expect(chart).to_have_attribute("data-resolution", resolution)
    expect(chart).to_have_attribute("data-state", "ready")
    assert int(chart.get_attribute("data-points")) > 5
    assert "range=" + name in page.url


def test_zooming_into_a_month_reloads_the_window_in_minute_buckets(browser, base_url: str, world: World,
                                                                   shot) -> None:
    page = login(browser, base_url, world, "operator")
    page.goto(f"/devices/{world.elevator_id}?range=30d")
    chart = page.locator(SPEED)
    expect(chart).to_have_attribute("data-resolution", "1h")
    page.evaluate("""echarts.getInstanceByDom(document.querySelector('#chart-speed .echart'))
                       .dispatchAction({type: 'dataZoom', start: 95, end: 100})""")
    expect(chart).to_have_attribute("data-resolution", "1m")
    expect(page.locator(f"{SPEED} .dev-reset")).to_be_visible()
    shot(page, "dev-02-device-30d-zoomed")
    page.click(f"{SPEED} .dev-reset")
    expect(chart).to_have_attribute("data-resolution", "1h")


def test_the_page_reads_in_english(browser, base_url: str, world: World, shot) -> None:
    page = open_device(browser, base_url, world, lang="en")
    expect(page.locator(f"{SPEED} figcaption")).to_contain_text("Car speed (m/s)")
    expect(page.locator(f"{SPEED} .dev-bands")).to_contain_text("above 2.1 m/s")
    shot(page, "dev-03-device-english")


def test_the_charts_fit_a_phone(browser, base_url: str, world: World, shot) -> None:
    page = open_device(browser, base_url, world, mobile=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    shot(page, "dev-04-device-phone")


def test_a_missing_chart_library_is_said_on_the_page(browser, base_url: str, world: World) -> None:
    page = login(browser, base_url, world, "operator")
    page.route("**/vendor/echarts.min.js", lambda route: route.fulfill(status=503, body="missing"))
    page.goto(f"/devices/{world.elevator_id}")
    expect(page.locator("#charts-error")).to_contain_text("图表库未安装")


def test_a_device_that_began_reporting_minutes_ago_opens_on_the_hour_it_has_data_for(browser, base_url: str,
                                                                                   world: World, shot) -> None:
    young = f"{world.building_id}-EL90"
    now = datetime.now(UTC).replace(microsecond=0)
    with connect(world.database_url) as conn:
        registry.upsert_device(conn, registry.Device(young, world.site_id, "elevator", "新装电梯",
                                                     building_id=world.building_id))
        Writer(conn).write(Batch.of_readings([(young, "speed", now - timedelta(seconds=10 * i), 1.0 + i % 3 / 10)
                                              for i in range(18)]))
        conn.commit()
    page = login(browser, base_url, world, "operator")
    page.goto(f"/devices/{young}")
    expect(page.locator('button[data-range="1h"]')).to_have_attribute("aria-pressed", "true")
    chart = page.locator(SPEED)
    expect(chart).to_have_attribute("data-state", "ready")
    expect(chart).to_have_attribute("data-range", "1h")
    expect(chart).to_have_attribute("data-points", "18")
    shot(page, "dev-05-young-device-opens-on-1h")


def test_a_device_with_months_of_readings_still_opens_on_a_day(browser, base_url: str, world: World) -> None:
    page = open_device(browser, base_url, world)
    expect(page.locator('button[data-range="24h"]')).to_have_attribute("aria-pressed", "true")
    expect(page.locator(SPEED)).to_have_attribute("data-range", "24h")
