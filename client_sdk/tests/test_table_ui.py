"""The table page's script (web/static/table-ui.js) and the protocol agree on the action types:
JavaScript cannot import `rejoin_protocol`, so its list is checked against the protocol's here."""

from __future__ import annotations

import json
import re
from pathlib import Path

from rejoin_protocol.messages import ACTION_TYPES

TABLE_UI = Path(__file__).parents[1] / "web" / "static" / "table-ui.js"


def test_the_pages_action_order_is_the_protocols_action_types() -> None:
    found = re.search(r"^const ACTION_ORDER = (\[.*?\]);$", TABLE_UI.read_text(), re.MULTILINE)
    assert found is not None, "table-ui.js declares ACTION_ORDER on one line"
    assert tuple(json.loads(found.group(1))) == ACTION_TYPES
