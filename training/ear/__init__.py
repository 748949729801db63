"""Training the ear: cached Whisper encoder features, speaker-normalised sessions, the emotion
head, and its evaluation (accuracy, calibration, leave-one-corpus-out)."""
