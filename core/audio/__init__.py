"""Audio in and out: microphone and file sources, speaker and capture sinks, PCM helpers."""
