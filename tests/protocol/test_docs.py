"""docs/protocol.md documents every rejection reason and every catalogue entry."""

import re
from pathlib import Path

from gateway.protocol import RejectionReason
from gateway.protocol.catalog import catalog

DOC = Path(__file__).resolve().parents[2] / "docs" / "protocol.md"


def test_every_reason_is_documented_with_an_example():
    text = DOC.read_text(encoding="utf-8")
    for reason in RejectionReason:
        section = re.search(rf"^\| `{reason.value}` \|(.+)$", text, flags=re.MULTILINE)
        assert section, f"{reason.value} has no row in docs/protocol.md"
        assert "`" in section.group(1), f"{reason.value} row has no example"


def test_every_catalogue_metric_and_event_code_is_documented():
    text = DOC.read_text(encoding="utf-8")
    for kind in catalog().values():
        for name in [*kind.metrics, *kind.events]:
            assert f"`{name}`" in text, f"{kind.name}.{name} missing from docs/protocol.md"
