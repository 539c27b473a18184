"""Specification of ``python -m rules.anomaly score``: the CSV contract of the scoring command."""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import numpy as np

from rules.anomaly.__main__ import main
from simulators.synthetic_series import inject

REPO = Path(__file__).resolve().parents[2]


def _write_messy_csv(path: Path, rows: int, seed: int = 3) -> list[str]:
    """A CSV with missing and non-numeric cells, repeated timestamps, mixed offsets; returns the stamps."""
    series = inject("level_shift", rows=rows, at=rows - 150, seed=seed, magnitude=2.0)
    rng = np.random.default_rng(seed)
    stamps = []
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["timestamp", "pressure", "flow", "level", "temp"])
        for i, row in enumerate(series.values):
            minute = i - (i % 10 == 5)  # every tenth row repeats the previous timestamp
            stamp = f"2026-03-01T{minute // 60 % 24:02d}:{minute % 60:02d}:00"
            stamp += "+08:00" if i % 3 == 0 else ("Z" if i % 3 == 1 else "")
            cells = [f"{v:.5f}" for v in row]
            if rng.random() < 0.05:
                cells[rng.integers(4)] = ""
            if rng.random() < 0.01:
                cells[rng.integers(4)] = rng.choice(["NaN", "n/a", "inf"])
            stamps.append(stamp)
            writer.writerow([stamp, *cells])
    return stamps


def _read_output(path: Path) -> list[list[str]]:
    with path.open(newline="") as handle:
        return list(csv.reader(handle))


def test_cli_scores_a_messy_file_row_for_row(tmp_path):
    source, target = tmp_path / "in.csv", tmp_path / "out.csv"
    stamps = _write_messy_csv(source, rows=900)
    result = subprocess.run([sys.executable, "-m", "rules.anomaly", "score", "--input", str(source),
                             "--output", str(target)], cwd=REPO, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    output = _read_output(target)
    assert output[0] == ["timestamp", "score", "is_anomaly"]
    assert [row[0] for row in output[1:]] == stamps
    assert all(0.0 <= float(row[1]) <= 1.0 and row[2] in ("0", "1") for row in output[1:])
    # The level shift in the last 150 rows scores above the alarm level (0.5).
    assert max(float(row[1]) for row in output[-150:]) >= 0.5


def test_cli_on_a_prefix_of_the_file_gives_the_same_rows(tmp_path):
    source = tmp_path / "in.csv"
    _write_messy_csv(source, rows=1100, seed=5)
    lines = source.read_text().splitlines(keepends=True)
    main(["score", "--input", str(source), "--output", str(tmp_path / "full.csv")])
    full = _read_output(tmp_path / "full.csv")
    for cut in (200, 640, 1001):
        prefix = tmp_path / f"prefix{cut}.csv"
        prefix.write_text("".join(lines[: cut + 1]))
        main(["score", "--input", str(prefix), "--output", str(tmp_path / "out.csv")])
        assert _read_output(tmp_path / "out.csv") == full[: cut + 1]


def test_cli_reports_a_file_without_channels(tmp_path, capsys):
    source = tmp_path / "in.csv"
    source.write_text("timestamp\n2026-01-01T00:00:00Z\n")
    assert main(["score", "--input", str(source), "--output", str(tmp_path / "out.csv")]) == 2
    assert "at least one channel" in capsys.readouterr().err


def test_cli_writes_just_the_header_for_a_file_without_rows(tmp_path):
    source, target = tmp_path / "in.csv", tmp_path / "out.csv"
    source.write_text("timestamp,a,b\n")
    assert main(["score", "--input", str(source), "--output", str(target)]) == 0
    assert _read_output(target) == [["timestamp", "score", "is_anomaly"]]


def test_cli_treats_absurd_readings_as_missing(tmp_path):
    source, target = tmp_path / "in.csv", tmp_path / "out.csv"
    rows = [f"2026-01-01T00:{i % 60:02d}:00Z,{1e300 if i % 50 == 7 else i % 4},{i % 3}" for i in range(300)]
    source.write_text("timestamp,a,b\n" + "\n".join(rows) + "\n")
    assert main(["score", "--input", str(source), "--output", str(target)]) == 0
    assert all(row[2] == "0" for row in _read_output(target)[1:])


def test_cli_alarm_state_flags_every_abnormal_row_and_event_only_onsets(tmp_path):
    source = tmp_path / "in.csv"
    _write_messy_csv(source, rows=900)
    flags = {}
    for style in ("event", "state"):
        assert main(["score", "--input", str(source), "--output", str(tmp_path / f"{style}.csv"),
                     "--alarm", style]) == 0
        flags[style] = [row[2] == "1" for row in _read_output(tmp_path / f"{style}.csv")[1:]]
    onsets = [i for i, f in enumerate(flags["state"]) if f and (i == 0 or not flags["state"][i - 1])]
    assert sum(flags["state"][-150:]) > 10
    events = [i for i, f in enumerate(flags["event"]) if f]
    # Events are the state's rises, less those within the quiet period after an event.
    assert events and events[0] == onsets[0] and set(events) <= set(onsets)


def test_cli_default_is_event_style_for_one_series(tmp_path):
    source = tmp_path / "in.csv"
    rows = [f"2026-01-01T{i // 60:02d}:{i % 60:02d}:00Z,{50.0 if i >= 600 else float(i % 5)}" for i in range(900)]
    source.write_text("timestamp,value\n" + "\n".join(rows) + "\n")
    outputs = {}
    for name, extra in (("default", []), ("event", ["--alarm", "event"])):
        assert main(["score", "--input", str(source), "--output", str(tmp_path / f"{name}.csv"), *extra]) == 0
        outputs[name] = (tmp_path / f"{name}.csv").read_text()
    assert outputs["default"] == outputs["event"]


def test_cli_default_holds_the_alarm_on_multichannel_equipment(tmp_path):
    # A recording of several channels is equipment: the default flags every abnormal row, as rig benchmarks score.
    source = tmp_path / "in.csv"
    _write_messy_csv(source, rows=900)
    outputs = {}
    for name, extra in (("default", []), ("state", ["--alarm", "state"])):
        assert main(["score", "--input", str(source), "--output", str(tmp_path / f"{name}.csv"), *extra]) == 0
        outputs[name] = (tmp_path / f"{name}.csv").read_text()
    assert outputs["default"] == outputs["state"]
