"""The generic table page's controller: a seat at a game of any kind but poker, so that a game's
author sees it played in a browser before writing any UI of their own.

Everything a seat needs (joining, resuming, the status line, the event log, the view) is
`seat_page.SeatPage`'s. This adds the forms: one per legal action of the view
(`action_forms.action_forms`, from `you.legalActions`), drawn by `generic-ui.js` with the view
itself as a table. A submitted form is checked against the form the player saw and sent as
`GameClient.act(type, **fields)`; what the player typed wrong, or the server refused, is shown
beside the forms.
"""

from __future__ import annotations

import json
from typing import Any

from rejoin.browser.action_forms import Forms, InvalidInput, action_forms, fields_to_send
from rejoin.browser.page_support import number_or_none, spawn
from rejoin.browser.seat_page import SeatHandlers, SeatPage, launch

__all__ = ["GenericHandlers", "GenericPage", "start"]

MOVED_ON = "The game moved on since this form was drawn: choose again from the forms shown now."


class GenericPage(SeatPage):
    """One tab's seat at game `game_id`, drawn through `ui` (`generic-ui.js`)."""

    def __init__(self, game_id: str, ui: Any, *, server_url: str | None = None) -> None:
        self._forms = Forms()
        self._forms_seq: int | None = None  # the seq of the view the forms were made from
        super().__init__(game_id, ui, server_url=server_url)

    def handlers(self) -> GenericHandlers:
        return GenericHandlers(self)

    def render(self, view: dict[str, Any], quiet: bool) -> None:
        if not quiet:  # presence changes no legal action, and the forms keep what was typed
            self._forms = action_forms(view)
            seq = view.get("seq")
            self._forms_seq = seq if isinstance(seq, int) else None
        self._ui.render(json.dumps(view), quiet, json.dumps(self._forms.to_json()))

    async def act(self, index: int, type: str, values: Any, at_seq: int | None) -> None:
        """Send the action of form `index` (of type `type`, drawn for the view at `at_seq`)
        with the fields its inputs hold (`values`, by field name)."""
        form = self._forms.submitted(index, type) if at_seq == self._forms_seq else None
        if form is None:
            self._ui.showMessage(MOVED_ON, "stale_state")
            return
        try:
            fields = fields_to_send(form, values if isinstance(values, dict) else {})
        except InvalidInput as bad:
            self._ui.showFieldError(index, bad.field, bad.message)
            return
        amount = fields.pop("amount", None)  # the protocol's own key (`action_forms`)
        await self.send(type, at_seq, amount, **fields)


class GenericHandlers(SeatHandlers):
    """What the page's forms call (from JavaScript, synchronously): each starts a task."""

    def __init__(self, page: GenericPage) -> None:
        super().__init__(page)
        self._generic = page

    def act(self, index: Any, type: Any, values_json: Any, at_seq: Any = None) -> None:
        position = number_or_none(index)
        try:
            values = json.loads(str(values_json))
        except ValueError:
            values = None
        spawn(
            self._generic.act(
                -1 if position is None else position, str(type), values, number_or_none(at_seq)
            ),
            "acting",
        )


def start(game_id: str, ui: Any, owns_tab: bool = True, base_url: str | None = None) -> None:
    """Called by boot.mjs once Python is ready. `owns_tab` is False when another tab of this
    browser holds this game's lock (a browser keeps one seat per game). `base_url`: the app's
    root (`http://host` or `http://host/<prefix>`), the page's origin if not given."""
    launch(GenericPage(game_id, ui, server_url=base_url), owns_tab)
