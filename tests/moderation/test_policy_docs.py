"""docs/moderation.md's policy table states every field's default as the code has it."""

from __future__ import annotations

import json
import re
from pathlib import Path

from townhall.moderation.policy import Policy

DOC = Path(__file__).resolve().parents[2] / "docs" / "moderation.md"
ROW = re.compile(r"^\| `([a-z_]+)`(?: / `([a-z_]+)`)? \| `([^`]+)`(?: / `([^`]+)`)? \|", re.M)


def test_the_policy_table_gives_the_defaults_in_force() -> None:
    defaults = Policy().to_json()
    documented: dict[str, object] = {}
    for m in ROW.finditer(DOC.read_text()):
        documented[m.group(1)] = json.loads(m.group(3))
        if m.group(2):
            documented[m.group(2)] = json.loads(m.group(4))
    assert documented == defaults
