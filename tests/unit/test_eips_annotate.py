"""EIPS annotation: template validity, reply validation, retry/reject, the HTTP teacher, the cache."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from core.emotion.eips import EIPS, parse_reply, render_target, validate_eips
from core.emotion.labels import EMOTIONS, INTENSITIES
from training.eips_annotate import template
from training.eips_annotate.annotate import Cache, Stats, annotate_row, check_reply, clean_reply
from training.eips_annotate.teachers import GenerationParams, OpenAITeacher

ROW = {"text": "The meeting moved to Thursday.", "emotion": "sad", "intensity": "high", "text_emotion": "neutral"}


def _reply(label: str) -> str:
    return render_target(label, "high", "I'm here with you.",
                         EIPS(f"{label}, high. Low, slow voice.", "To be heard.", "Feels alone.", "Validate gently."))


@pytest.mark.parametrize("emotion", EMOTIONS)
@pytest.mark.parametrize("intensity", INTENSITIES)
def test_template_annotations_are_valid_and_round_trip_through_core_eips(emotion, intensity):
    eips, response = template.annotate("The bus comes at nine.", emotion, intensity, text_emotion="happy")
    assert validate_eips(eips, emotion) == []
    parsed = parse_reply(render_target(emotion, intensity, response, eips))
    assert parsed.valid and parsed.label == emotion and parsed.eips == eips
    assert check_reply(render_target(emotion, intensity, response, eips), emotion)[2] == []


def test_check_reply_rejects_wrong_label_wrong_order_and_missing_response():
    assert check_reply(_reply("sad"), "sad")[2] == []
    assert any("expected 'sad'" in p for p in check_reply(_reply("happy"), "sad")[2])
    swapped = "Intent: x\nEmotion: sad, high. y\nPsychology: z\nStrategy: w\nResponse: ok"
    assert any("out of order" in p for p in check_reply(swapped, "sad")[2])
    no_response = "Emotion: sad, high.\nIntent: x\nPsychology: z\nStrategy: w"
    assert check_reply(no_response, "sad")[2]


class _Server:
    """A loopback OpenAI-compatible endpoint that answers from a script and records requests."""

    def __init__(self, replies: list[str]) -> None:
        self.replies, self.requests = list(replies), []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server API)
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                outer.requests.append((self.path, body))
                text = outer.replies.pop(0)
                data = json.dumps({"choices": [{"message": {"role": "assistant", "content": text}}]}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.httpd = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_port}/v1"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.httpd.shutdown()
        self.thread.join()


def test_openai_teacher_retries_an_invalid_reply_then_the_cache_makes_a_rerun_free(tmp_path):
    server = _Server([_reply("happy"), _reply("sad")])
    try:
        teacher = OpenAITeacher(server.url, "big-teacher", GenerationParams())
        cache, stats = Cache(tmp_path / "cache"), Stats()
        ann = annotate_row(ROW, teacher, cache, retries=2, fallback="none", stats=stats)
        assert ann.ok and ann.annotator == "openai:big-teacher" and ann.attempts == 2
        assert ann.eips.emotion.startswith("sad, high") and ann.response == "I'm here with you."
        assert stats.teacher_calls == 2 and stats.problems
        path, body = server.requests[0]
        assert path == "/v1/chat/completions" and body["model"] == "big-teacher"
        user = body["messages"][-1]["content"]
        assert "sad, high" in user and ROW["text"] in user and "slower pace" in user

        again = Stats()
        ann2 = annotate_row(ROW, teacher, cache, retries=2, fallback="none", stats=again)
        assert again.teacher_calls == 0 and again.cache_hits == 2 and ann2 == ann
        assert len(server.requests) == 2
    finally:
        server.close()


def test_a_rejected_row_is_marked_or_falls_back_to_the_labelled_template(tmp_path):
    server = _Server([_reply("angry")] * 4)
    try:
        teacher = OpenAITeacher(server.url, "t", GenerationParams())
        stats = Stats()
        bad = annotate_row(ROW, teacher, Cache(tmp_path / "a"), retries=1, fallback="none", stats=stats)
        assert not bad.ok and bad.annotator == "rejected: openai:t" and stats.rejected == 1
        fb = annotate_row(ROW, teacher, Cache(tmp_path / "b"), retries=1, fallback="template", stats=stats)
        assert fb.ok and fb.annotator.startswith("template-v1 (fallback")
        assert validate_eips(fb.eips, "sad") == []
    finally:
        server.close()


def test_reply_only_teacher_writes_the_reply_and_the_steps_come_from_the_validated_templates(tmp_path):
    rambling = ("I'm so sorry the meeting moved again. That must feel like a lot. Do you want to talk about it? "
                "I am here. I am always here for you")
    server = _Server(["", "Response: Thursday again?", rambling])
    try:
        teacher = OpenAITeacher(server.url, "t", GenerationParams())
        stats = Stats()
        ann = annotate_row(ROW, teacher, Cache(tmp_path), retries=2, fallback="none", stats=stats, writes="reply")
        assert ann.ok and ann.attempts == 3 and ann.annotator == "openai:t (reply) + template-v1 (steps)"
        assert ann.response == ("I'm so sorry the meeting moved again. That must feel like a lot. "
                                "Do you want to talk about it?")
        assert stats.trimmed == 1 and stats.problems["empty reply"] == 1 and stats.problems["words"] == 1
        steps, _ = template.annotate(ROW["text"], "sad", "high", "neutral")
        assert ann.eips == steps and validate_eips(ann.eips, "sad") == []
        messages = server.requests[0][1]["messages"]
        system, user = messages[0]["content"], messages[-1]["content"]
        # the cascade's turn format: the voice in brackets, then the words; the strategy briefs the teacher
        assert user.startswith("(Voice: sad, high: ") and "slower pace" in user and user.endswith(ROW["text"])
        assert steps.strategy in system and "Emotion:" not in system
        assert [m["role"] for m in messages] == ["system", "user", "assistant", "user"]
    finally:
        server.close()


def test_a_teacher_that_fails_is_retried_then_falls_back_and_the_reason_is_logged_and_counted(tmp_path, caplog):
    teacher = OpenAITeacher("http://127.0.0.1:9/v1", "down", GenerationParams(), timeout_s=5)  # nothing listens
    stats = Stats()
    with caplog.at_level("WARNING"):
        ann = annotate_row(ROW, teacher, Cache(tmp_path), retries=1, fallback="template", stats=stats, writes="reply")
    assert ann.ok and ann.annotator == "template-v1 (fallback: openai:down rejected)"
    assert stats.teacher_calls == 2 and stats.problems["teacher error"] == 2 and stats.fallback == 1
    assert "rejected after 2 attempts" in caplog.text and "template fallback" in caplog.text
    assert stats.rejected_rows[0]["problems"] == ["teacher error"]
    assert not list(tmp_path.rglob("*.json"))  # a failed call is never cached


def test_stage_directions_of_a_small_teacher_are_not_kept_in_the_spoken_reply():
    # real SmolLM2 teacher output on lime-ear (session 3): the voice would read the brackets out
    raw = ("Ah, great find. I'm glad they're all sorted out. (Slightly chuckles) That's a good idea, no?")
    assert clean_reply(raw) == ("Ah, great find. I'm glad they're all sorted out. That's a good idea, no?", False)
    raw = "You've seen a lot, haven't you? (pauses to look at the woman) That's the kind of lady you'd love to meet."
    reply, _ = clean_reply(raw)
    assert "(" not in reply and "pauses" not in reply and reply.startswith("You've seen a lot, haven't you?")
    assert clean_reply("I'm sorry it went that way (again). How are you holding up?")[0] == (
        "I'm sorry it went that way. How are you holding up?")
