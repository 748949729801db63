"""`CascadeEngine`: the baseline that reads emotion only from words and prosodic cues.

One turn: faster-whisper transcript -> prosodic cues and the weak acoustic estimate
(core.speech.cues) -> a text LLM through llama.cpp, prompted for EIPS output (core.emotion.eips) with the
cues described in words next to the transcript. Small models drift from the format, so the
prompt carries one worked example and the assistant turn is pre-filled with "Emotion:"; if
the model stops before writing "Response:", the engine appends that header and lets it go
on, so every turn ends with something to say.

Perceived label and confidence (uncalibrated, documented so nobody reads more into them):
- the label is the one the LLM names on its Emotion line (it saw the words and the cue
  description); when it names none, the acoustic estimate's label is used;
- confidence = 0.6 x [the LLM named a label] + 0.4 x the acoustic probability of the label.
  So an LLM label the voice also supports scores up to 1.0, a cue-only guess at most 0.4.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from concurrent.futures import Future

import numpy as np

from core.ear.listener import EarListener
from core.emotion.eips import EIPS, emotion_tag, render_target, system_prompt
from core.emotion.words_vs_voice import detect
from core.engines.base import HistoryTurn, fit_history
from core.engines.events import Done, Error, Event, Perceived, ReplyDelta
from core.engines.generation import CONTINUE_TOKENS, generate_reply
from core.engines.llm_runtime import TextLLM
from core.engines.options import EngineOptions
from core.engines.turn_stream import LEAD, RESPONSE_HEAD, TurnStream, ms_since
from core.speech.asr import SpeechRecognizer, Transcript
from core.speech.cues import Cues, EmotionEstimate, EmotionFromCues, measure_cues

LLM_LABEL_WEIGHT = 0.6
CUE_WEIGHT = 0.4
NOT_HEARD = "I didn't quite catch that. Could you say it again?"

# Two worked examples of opposite moods (rendered by core.emotion.eips, the same format training
# uses): with one example, a 135M model copies its reply whatever the user said.
_EXAMPLES: tuple[tuple[str, str, str, str, EIPS], ...] = (
    (
        "(Voice: pitch low and flat, pace slow, quiet; may sound sad.) My cat died this morning.",
        "sad", "high",
        "I'm so sorry about your cat. Losing a companion hurts. Would you like to tell me about them?",
        EIPS(
            emotion="sad, high. The voice is low, slow and quiet, and the words agree.",
            intent="To be comforted.",
            psychology="Grief after a loss.",
            strategy="Validate the sadness gently and invite them to share, in a soft tone.",
        ),
    ),
    (
        "(Voice: pitch high and lively, pace fast, loud; may sound happy.) I got the apartment!",
        "happy", "high",
        "That's wonderful news! You must be so relieved. When do you move in?",
        EIPS(
            emotion="happy, high. The voice is bright, quick and loud, and the words agree.",
            intent="To share good news.",
            psychology="Relief and pride after a stressful search.",
            strategy="Celebrate with them and ask an open question, in a warm upbeat tone.",
        ),
    ),
)


class CascadeEngine:
    """ASR + cues + text LLM. Loads its models once; `respond()` streams one turn's events."""

    name = "cascade"

    def __init__(self, options: EngineOptions, llm: TextLLM | None = None, asr: SpeechRecognizer | None = None) -> None:
        self.options = options
        self.llm = llm or TextLLM(options.engine)
        self.asr = asr or SpeechRecognizer(options.asr, options.engine.n_threads)
        self.ear: EarListener | None = None  # the calibrated ear (core.ear), given by the factory
        self.cue_model = EmotionFromCues()
        self.model = f"{self.llm.path.name} + faster-whisper {self.asr.model_dir.name}"
        self.notice: str | None = None
        self.warm_up()

    def warm_up(self) -> None:
        """Evaluate the fixed prompt head (system + worked examples) once, at load time.

        llama.cpp keeps it in the KV cache and reuses the longest common prefix on every
        turn, so the first turn starts as fast as the later ones."""
        prompt, stops = self._prompt([], "Hello.", None)
        head = prompt[: prompt.rindex("Hello.")]
        for _ in self.llm.stream(head, stops, max_tokens=1):
            pass

    # ----- public interface -------------------------------------------------------------

    def respond(
        self,
        audio: np.ndarray | None,
        history: list[HistoryTurn],
        text: str | None = None,
        cancel: threading.Event | None = None,
    ) -> Iterator[Event]:
        try:
            yield from self._respond(audio, history, text, cancel or threading.Event())
        except Exception as exc:  # a stage failure becomes an event; the conversation goes on
            yield Error(f"the cascade engine failed: {type(exc).__name__}: {exc}", stage="engine")

    def prefetch(self, audio: np.ndarray) -> Future | None:
        """The user may have finished: start the transcript now (core.speech.asr_prefetch), and
        let the ear pool the same pass once it is done."""
        future = self.asr.prefetch(audio)
        if self.ear is not None:
            self.ear.warm_after(self.asr, audio, future)
        return future

    def close(self) -> None:
        self.asr.close()
        self.llm.close()

    # ----- one turn ---------------------------------------------------------------------

    def _respond(self, audio, history, text, cancel: threading.Event) -> Iterator[Event]:
        t0 = time.perf_counter()
        timings: dict[str, float] = {}
        transcript = Transcript("")
        cues: Cues | None = None
        estimate: EmotionEstimate | None = None
        if audio is not None and np.asarray(audio).size:
            transcript = self.asr.transcribe(audio)
            timings["asr_ms"] = ms_since(t0)
            t1 = time.perf_counter()
            cues = measure_cues(audio, transcript.words, len(transcript.text.split()))
            estimate = self._hear(audio) or self.cue_model.estimate(cues)
            timings["cues_ms"] = ms_since(t1)
        user_text = (text or transcript.text).strip()
        if cancel.is_set():
            yield Done("", None, interrupted=True, timings_ms=timings)
            return
        if not user_text:
            yield self._perceived(None, None, estimate, cues, transcript.text)
            yield ReplyDelta(NOT_HEARD)
            timings["total_ms"] = ms_since(t0)
            yield Done(NOT_HEARD, None, timings_ms=timings)
            return

        hint = self.cue_model.describe(cues, estimate) if cues is not None else None
        mismatch = detect(user_text, estimate.label, estimate.confidence) if estimate is not None else None
        if mismatch is not None:  # words against voice: the reply may gently name it
            hint = f"{hint}; {mismatch.hint}" if hint else mismatch.hint
        prompt, stops = self._prompt(history, user_text, hint)
        stream = TurnStream(lambda label, intensity: self._perceived(label, intensity, estimate, cues, user_text), t0, timings)
        yield from stream.feed(LEAD)  # pre-filled: the model starts inside the format
        if self.ear is not None and estimate is not None and estimate.heard:
            # the calibrated ear heard the voice: the Emotion line says so and the LLM goes on from there
            yield from stream.feed(f" {emotion_tag(estimate.label, estimate.intensity)}"
                                   + ("" if self.options.explicit_reasoning else "\n" + RESPONSE_HEAD))
        t_llm = time.perf_counter()

        def pieces(budget: int | None) -> Iterator[str]:  # the prompt again, with the text so far
            return self.llm.stream(prompt + stream.text, stops, max_tokens=budget, cancel=cancel)

        yield from generate_reply(stream, pieces, self.llm.sprint, cancel, None, t0)
        timings["llm_ms"] = ms_since(t_llm)
        yield from stream.finish(interrupted=cancel.is_set())

    def _hear(self, audio: np.ndarray) -> EmotionEstimate | None:
        """The calibrated ear's reading (core.ear) on the transcript's own encoder pass, or None."""
        h = self.ear.hear_turn(self.asr, np.asarray(audio, dtype=np.float32).reshape(-1)) if self.ear else None
        return EmotionEstimate(h.label, h.intensity, h.confidence, h.probabilities, heard=True) if h else None

    def _prompt(self, history: list[HistoryTurn], user_text: str, hint: str | None) -> tuple[str, list[str]]:
        """Chat-template prompt: system, the worked example, as much history as fits, this turn."""
        explicit = self.options.explicit_reasoning
        persona = self.options.engine.persona
        system = system_prompt(persona, explicit) if persona else system_prompt(explicit=explicit)
        # The system prompt and examples come first and never change, so llama.cpp's prefix
        # cache evaluates them once per session, not once per turn.
        user = f"(Voice: {hint}.) {user_text}" if hint else user_text
        head = [{"role": "system", "content": system}]
        for ex_user, label, intensity, reply, eips in _EXAMPLES:
            head.append({"role": "user", "content": ex_user})
            head.append({"role": "assistant", "content": render_target(label, intensity, reply, eips if explicit else None)})
        budget = self.llm.n_ctx - self.options.engine.max_tokens - CONTINUE_TOKENS

        def render(turns: list[HistoryTurn]) -> tuple[str, list[str]]:
            past = [m for t in turns for m in ({"role": "user", "content": t.user}, {"role": "assistant", "content": t.assistant})]
            return self.llm.chat_prompt([*head, *past, {"role": "user", "content": user}])

        prompt, stops = fit_history(history, render, lambda r: self.llm.count_tokens(r[0]) <= budget)
        return prompt, [*stops, "<|im_start|>", "\n" + LEAD]

    def _perceived(self, label, intensity, estimate: EmotionEstimate | None, cues: Cues | None, transcript: str | None) -> Perceived:
        cue_probs = estimate.probabilities if estimate is not None else {}
        if label is not None and estimate is not None and estimate.heard:
            confidence = cue_probs.get(label, 0.0)  # the ear's calibrated probability
            intensity = intensity or estimate.intensity
        elif label is not None:
            confidence = LLM_LABEL_WEIGHT + CUE_WEIGHT * cue_probs.get(label, 0.0)
            intensity = intensity or (estimate.intensity if estimate and estimate.label == label else "medium")
        elif estimate is not None:
            label, intensity = estimate.label, estimate.intensity
            confidence = CUE_WEIGHT * estimate.confidence
        else:
            label, intensity, confidence = "neutral", "medium", 0.0
        if label == "neutral":
            intensity = "medium"  # docs/emotions.md: neutral has no intensity, stored as medium
        return Perceived(label, intensity, round(float(confidence), 3), transcript or None, cues.as_dict() if cues else {})
