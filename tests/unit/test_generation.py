"""The generation loop both engines share (core.engines.generation), with a scripted model."""

from __future__ import annotations

import threading
import time

from core.engines.base import HistoryTurn, fit_history
from core.engines.events import Done, Perceived, ReplyDelta
from core.engines.generation import CONTINUE_TOKENS, generate_reply
from core.engines.turn_stream import LEAD, NUDGE, TurnStream


class _Sprint:
    def __init__(self) -> None:
        self.active = False
        self.log: list[str] = []

    def start(self) -> None:
        self.active = True
        self.log.append("start")

    def relax(self) -> None:
        if self.active:
            self.log.append("relax")
        self.active = False


class _Model:
    """Yields one scripted text per attempt, piece by piece; records budgets and closings."""

    def __init__(self, *attempts: list[str]) -> None:
        self.attempts = list(attempts)
        self.budgets: list[int | None] = []
        self.closed = 0

    def __call__(self, budget):
        self.budgets.append(budget)
        script = self.attempts.pop(0) if self.attempts else []

        def gen():
            try:
                yield from script
            finally:
                self.closed += 1
        return gen()


def _run(model, nudge=lambda: True, cancel=None):
    t0 = time.perf_counter()
    stream = TurnStream(lambda label, intensity: Perceived(label or "neutral", intensity or "medium", 0.5, None, {}), t0, {})
    list(stream.feed(LEAD))
    sprint = _Sprint()
    events = list(generate_reply(stream, model, sprint, cancel or threading.Event(), 200, t0, nudge))
    return stream, sprint, events


def test_a_model_that_stops_before_its_reply_is_nudged_once():
    model = _Model([" sad", ", medium."], [" I am", " sorry to hear that."])
    stream, sprint, events = _run(model)
    assert model.budgets == [200, CONTINUE_TOKENS]
    assert NUDGE in stream.text
    assert "".join(e.text for e in events if isinstance(e, ReplyDelta)).strip() == "I am sorry to hear that."
    assert model.closed == 2 and sprint.log[0] == "start" and not sprint.active


def test_no_nudge_after_a_reply_and_none_when_there_is_no_room():
    model = _Model([" happy, high.\nResponse: That is great news!"])
    _, _, events = _run(model)
    assert model.budgets == [200] and any(isinstance(e, ReplyDelta) for e in events)
    silent = _Model([" sad, low."])
    stream, _, _ = _run(silent, nudge=lambda: False)
    assert silent.budgets == [200] and NUDGE not in stream.text


def test_the_model_is_stopped_as_soon_as_the_reply_is_complete_and_the_sprint_ends_at_the_first_sentence():
    script = [" sad, low.\nResponse:", " One.", " Two.", " Three.", " Four.", " Five."]
    model = _Model(script)
    stream, sprint, events = _run(model)
    assert stream.complete and model.closed == 1
    assert "Four" not in "".join(e.text for e in events if isinstance(e, ReplyDelta))
    assert sprint.log == ["start", "relax"]  # relaxed once, at the first sentence
    assert isinstance(list(stream.finish(False))[-1], Done)


def test_cancel_stops_before_a_nudge():
    cancel = threading.Event()
    model = _Model([" sad, low."])

    def stopped_while_generating(budget):
        cancel.set()  # e.g. the user interrupts during the first attempt
        return model(budget)

    _run(stopped_while_generating, cancel=cancel)
    assert model.budgets == [200]


def test_a_model_stopped_before_it_began_is_never_asked():
    # the crisis check fired on the transcript before generation: the engine is drained to its Done
    # (core.conversation.reply_stages) and must not evaluate the prompt first
    cancel = threading.Event()
    cancel.set()
    model = _Model([" sad, low."])
    stream, sprint, events = _run(model, cancel=cancel)
    assert model.budgets == [] and events == [] and not sprint.active
    assert isinstance(list(stream.finish(True))[-1], Done)


def test_fit_history_keeps_the_newest_contiguous_turns():
    turns = [HistoryTurn(f"u{i}", "a" * (10 * (i + 1))) for i in range(4)]  # costs 10, 20, 30, 40
    cost = {t.user: len(t.assistant) for t in turns}

    def fits(limit):
        return lambda kept: sum(cost[t.user] for t in kept) <= limit

    assert [t.user for t in fit_history(turns, lambda k: k, fits(75))] == ["u2", "u3"]
    assert [t.user for t in fit_history(turns, lambda k: k, fits(100))] == ["u0", "u1", "u2", "u3"]
    assert fit_history(turns, lambda k: k, fits(39)) == []  # the newest alone is too big: no history
    assert fit_history(turns, lambda k: "|".join(t.user for t in k), lambda s: len(s) <= 5) == "u2|u3"
