"""Command line: ``python -m rules.anomaly score --input IN.csv --output OUT.csv``."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from rules.anomaly.config import ALARM_STYLES, AlarmStyle, DetectorConfig
from rules.anomaly.detector import StreamingDetector
from rules.anomaly.table import read_table, write_scores

AUTO = "auto"


def style_for(channels: int) -> AlarmStyle:
    """The ``auto`` style: ``event`` for a single series, ``state`` for a recording of two or more channels.

    A single series is judged by its events (one alarm per episode, as NAB scores onsets); a multichannel
    recording is equipment, whose fault is judged while it lasts (the console's "still abnormal" view, and how
    rig benchmarks score every row). docs/anomaly.md, "Scoring command".
    """
    return "event" if channels == 1 else "state"


def score_file(input_path: Path, output_path: Path, *, alarm: AlarmStyle | str = AUTO) -> int:
    """Score every row of ``input_path`` with a fresh detector and write the result; returns the row count.

    ``alarm`` is the style of the ``is_anomaly`` column: ``event`` (the first row of each abnormal episode),
    ``state`` (every abnormal row) or ``auto`` (``style_for`` the number of channels).
    """
    table = read_table(input_path)
    style = style_for(len(table.channels)) if alarm == AUTO else alarm
    detector = StreamingDetector(table.channels, config=DetectorConfig(alarm=style))
    results = detector.update_batch(table.times, table.values)
    write_scores(output_path, table.stamps, [r.value for r in results], [r.is_anomaly for r in results])
    return len(results)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the process exit status."""
    parser = argparse.ArgumentParser(prog="python -m rules.anomaly", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    score = commands.add_parser("score", help="score a CSV of sensor readings, streaming and unsupervised")
    score.add_argument("--input", required=True, type=Path, help="CSV: timestamp column, then channels")
    score.add_argument("--output", required=True, type=Path, help="CSV: timestamp,score,is_anomaly")
    score.add_argument("--alarm", choices=(AUTO, *ALARM_STYLES), default=AUTO,
                       help="is_anomaly marks each event's first row (event) or every abnormal row (state); auto "
                            "(default): event for one channel, state for two or more (equipment)")
    args = parser.parse_args(argv)
    try:
        score_file(args.input, args.output, alarm=args.alarm)
    except (OSError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
