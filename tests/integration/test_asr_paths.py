"""The short-window ASR path against faster-whisper's padded 30 s path, on real speech."""

from __future__ import annotations

import shutil
import subprocess

import jiwer
import numpy as np
import pytest

import core.speech.asr as asr_module
from core.audio.pcm import load_audio
from core.settings import AsrSettings
from core.speech.asr import SpeechRecognizer

pytestmark = pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="needs espeak-ng (apt-get install espeak-ng)")
SENTENCES = [
    "I lost my job today and I do not know what to do.",
    "My sister is coming to visit next weekend and I am so happy.",
]


def _speak(tmp_path, text: str, name: str) -> np.ndarray:
    wav = tmp_path / f"{name}.wav"
    subprocess.run(["espeak-ng", "-v", "en-us", "-s", "150", "-w", str(wav), text], check=True)
    return load_audio(wav)


@pytest.fixture(scope="module")
def recognizers():
    return SpeechRecognizer(AsrSettings(short_context=True)), SpeechRecognizer(AsrSettings(short_context=False))


def test_short_window_matches_the_padded_path(recognizers, tmp_path, monkeypatch):
    short, padded = recognizers
    calls = []
    original = SpeechRecognizer._transcribe_short
    monkeypatch.setattr(SpeechRecognizer, "_transcribe_short", lambda self, *a: calls.append(a[1]) or original(self, *a))
    clips = [_speak(tmp_path, s, f"s{i}") for i, s in enumerate(SENTENCES)]
    # a long turn (two sentences and a pause, ~9 s) still inside the short path's range
    clips.append(np.concatenate([clips[0], np.zeros(8000, np.float32), clips[1]]))
    refs = SENTENCES + [" ".join(SENTENCES)]
    for audio, ref in zip(clips, refs, strict=True):
        fast, slow = short.transcribe(audio), padded.transcribe(audio)
        norm = lambda s: s.lower().replace(".", "").replace(",", "")  # noqa: E731
        assert jiwer.wer(norm(ref), norm(fast.text)) <= 0.25, fast.text
        assert jiwer.wer(norm(slow.text), norm(fast.text)) <= 0.2, (fast.text, slow.text)
        assert fast.words == []  # the short path gives no word timestamps
    assert len(calls) == 3 and max(calls) < asr_module.SHORT_MAX_S


def test_word_timestamps_and_long_turns_take_the_padded_path(recognizers, tmp_path):
    short, _ = recognizers
    audio = _speak(tmp_path, SENTENCES[0], "w")
    with_words = short.transcribe(audio, words=True)
    assert len(with_words.words) >= 8 and with_words.words[-1].end > with_words.words[0].start
    long_turn = np.concatenate([audio, np.zeros(16000 * 16, np.float32), audio])  # 16 s of pause
    text = short.transcribe(long_turn).text.lower()
    assert text.count("job") == 2


def test_silence_gives_an_empty_transcript(recognizers):
    short, _ = recognizers
    assert short.transcribe(np.zeros(16000 * 2, np.float32)).text == ""


def test_a_prefetched_transcript_serves_the_turn_that_follows(tmp_path):
    """The transcript started at the first silent window (core.speech.asr_prefetch) is the one the
    answered turn gets when only silence followed; other audio is transcribed afresh."""
    asr = SpeechRecognizer(AsrSettings(short_context=True))
    try:
        said = _speak(tmp_path, SENTENCES[0], "a")
        other = _speak(tmp_path, SENTENCES[1], "b")
        fresh = asr.transcribe(np.concatenate([said, np.zeros(1024, np.float32)]))
        asr.prefetch(said)
        answered = asr.transcribe(np.concatenate([said, np.zeros(1024, np.float32)]))
        assert asr.prefetch_hits == 1 and answered.text == fresh.text
        assert jiwer.wer(SENTENCES[0].lower().strip("."), answered.text.lower().strip(".")) <= 0.35
        asr.prefetch(said)
        moved_on = asr.transcribe(other)  # the user said something else: no stale words
        assert asr.prefetch_hits == 1
        assert jiwer.wer(SENTENCES[1].lower().strip("."), moved_on.text.lower().strip(".")) <= 0.35
    finally:
        asr.close()


def test_a_primed_reading_spells_a_hum_as_one_and_leaves_words_alone(recognizers, tmp_path):
    """`prompt` is Whisper's previous text: primed with backchannel spellings, a hum reads as a
    backchannel (core.conversation.backchannels), a sentence reads as the same words; both
    readings carry Whisper's confidence."""
    from core.conversation.backchannels import BACKCHANNEL_PROMPT, is_backchannel

    short, padded = recognizers
    wav = tmp_path / "hum.wav"
    subprocess.run(["espeak-ng", "-v", "en-us+f4", "-w", str(wav), "Mhm."], check=True)
    hum = load_audio(wav)
    for asr in (short, padded):
        primed = asr.transcribe(hum, prompt=BACKCHANNEL_PROMPT)
        assert is_backchannel(primed.text), primed.text
        assert primed.avg_logprob is not None and primed.avg_logprob <= 0.0 and 0.0 <= primed.no_speech_prob <= 1.0
    said = _speak(tmp_path, SENTENCES[0], "p")
    plain = short.transcribe(said)
    hits = short.prefetch_hits
    short.prefetch(said)
    primed = short.transcribe(said, prompt=BACKCHANNEL_PROMPT)
    assert short.prefetch_hits == hits  # a primed reading never stands in for (or takes) the turn's transcript
    norm = lambda s: s.lower().replace(".", "").replace(",", "")  # noqa: E731
    assert jiwer.wer(norm(plain.text), norm(primed.text)) <= 0.2, (plain.text, primed.text)
