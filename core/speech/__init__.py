"""Speech in and out: voice activity (vad), recognition (asr, asr_prefetch), synthesis (tts), prosodic cues.

Nothing here knows about the conversation: these modules take 16 kHz PCM or text and return
events, transcripts, audio or measurements.
"""
