"""The stage framework: the harness, ordering, and the interrupt lane with a deliberately slow stage."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from core.conversation.stage_framework import Frame, Stage, StageChain, StageError, run_stage


@dataclass(frozen=True)
class Word(Frame):
    text: str


class Explode(Stage):
    """Turns one frame into `n` word frames (a fast producer, like an LLM)."""

    name = "explode"

    def __init__(self, n: int) -> None:
        self.n = n

    def process(self, frame, push):
        for i in range(self.n):
            push(Word(frame.turn, f"w{i}"))


class Slow(Stage):
    """Takes `delay` per frame and watches the turn's cancel Event, like TTS or playback."""

    name = "slow"

    def __init__(self, delay: float, cancel_for) -> None:
        self.delay = delay
        self.cancel_for = cancel_for
        self.seen: list[tuple[int, str]] = []
        self.started = threading.Event()

    def process(self, frame, push):
        self.seen.append((frame.turn, frame.text))
        self.started.set()
        self.cancel_for(frame.turn).wait(self.delay)
        push(frame)


class Upper(Stage):
    name = "upper"

    def process(self, frame, push):
        push(Word(frame.turn, frame.text.upper()))


def test_run_stage_harness():
    assert run_stage(Upper(), [Word(1, "a"), Word(1, "b")]) == [Word(1, "A"), Word(1, "B")]
    assert run_stage(Explode(3), [Frame(7)]) == [Word(7, "w0"), Word(7, "w1"), Word(7, "w2")]


def test_frames_flow_in_order_and_observers_see_new_frames_once():
    seen = []
    with StageChain([Explode(5), Upper()], observers=[seen.append]) as p:
        p.submit(Frame(1))
        deadline = time.monotonic() + 5
        while len(seen) < 11 and time.monotonic() < deadline:
            time.sleep(0.01)
    assert [f.text for f in seen if isinstance(f, Word) and f.text.isupper()] == [f"W{i}" for i in range(5)]
    assert len(seen) == 1 + 5 + 5  # the submitted frame, 5 words, 5 upper-cased words


def test_interrupt_drops_queued_frames_and_stops_the_slow_stage_at_once():
    out = []
    slow = Slow(delay=30.0, cancel_for=lambda turn: pipeline.cancel_event(turn))
    pipeline = StageChain([Explode(50), slow, Upper()], observers=[out.append])
    with pipeline:
        pipeline.submit(Frame(1))
        assert slow.started.wait(5)
        assert pipeline.interrupt(1)
        assert not pipeline.interrupt(1)  # once only
        slow.delay = 0.01
        pipeline.submit(Frame(2))  # the next turn is unaffected
        deadline = time.monotonic() + 10
        while not any(isinstance(f, Word) and f.turn == 2 and f.text == "W0" for f in out) and time.monotonic() < deadline:
            time.sleep(0.01)
        pipeline.interrupt(2)
    # turn 1: the slow stage saw one frame (cancelled mid-way, not after 5 s), none reached the end
    assert [f for f in out if isinstance(f, Word) and f.turn == 1 and f.text.isupper()] == []
    assert [text for turn, text in slow.seen if turn == 1] == ["w0"]  # the rest of turn 1 was dropped
    assert any(isinstance(f, Word) and f.turn == 2 and f.text == "W0" for f in out)


class Boom(Stage):
    name = "boom"

    def process(self, frame, push):
        if frame.turn == 1:
            raise RuntimeError("kaput")
        push(frame)


def test_a_failing_stage_becomes_an_error_frame_and_the_pipeline_goes_on():
    seen = []
    with StageChain([Boom(), Upper()], observers=[seen.append]) as p:
        p.submit(Word(1, "x"))
        p.submit(Word(2, "y"))
        deadline = time.monotonic() + 5
        while not any(isinstance(f, Word) and f.text == "Y" for f in seen) and time.monotonic() < deadline:
            time.sleep(0.01)
    errors = [f for f in seen if isinstance(f, StageError)]
    assert len(errors) == 1 and "kaput" in errors[0].message and errors[0].stage == "boom"
    assert any(isinstance(f, Word) and f.text == "Y" for f in seen)
