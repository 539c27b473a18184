"""Command line: ``python -m rules.anomaly score --input IN.csv --output OUT.csv``."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from rules.anomaly.config import ALARM_STYLES, AlarmStyle, DetectorConfig
from rules.anomaly.detector import StreamingDetector
from rules.anomaly.table import read_table, write_scores


def score_file(input_path: Path, output_path: Path, *, alarm: AlarmStyle = "event") -> int:
    """Score every row of ``input_path`` with a fresh detector and write the result; returns the row count.

    ``alarm`` is the style of the ``is_anomaly`` column: ``event`` (the first row of each abnormal episode) or
    ``state`` (every abnormal row).
    """
    table = read_table(input_path)
    detector = StreamingDetector(table.channels, config=DetectorConfig(alarm=alarm))
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
    score.add_argument("--alarm", choices=ALARM_STYLES, default="event",
                       help="is_anomaly marks each event's first row (event, default) or every abnormal row (state)")
    args = parser.parse_args(argv)
    try:
        score_file(args.input, args.output, alarm=args.alarm)
    except (OSError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
