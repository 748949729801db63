"""Evaluation inside training: perceived emotion from the generated tag, baselines, format validity."""
