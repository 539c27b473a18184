"""A seed and a start time fully determine what the simulators send."""

from datetime import UTC, datetime

from simulators.offline import PlannedFault, run_offline

START = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)


def _bytes(estate, seed, faults=()):
    return [(m.device, m.kind, m.payload) for m in run_offline(estate, start=START, duration_s=300, seed=seed,
                                                              faults=faults)]


def test_same_seed_gives_byte_identical_output(estate):
    assert _bytes(estate, 7) == _bytes(estate, 7)


def test_same_seed_with_faults_gives_byte_identical_output(estate):
    faults = (PlannedFault(30, "S001-B01-EL01", "trapped", 60), PlannedFault(10, "S001-PR01", "pump_failure"))
    assert _bytes(estate, 7, faults) == _bytes(estate, 7, faults)


def test_different_seeds_give_different_traffic(estate):
    assert _bytes(estate, 1) != _bytes(estate, 2)
