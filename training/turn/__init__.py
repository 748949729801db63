"""Calibrating the end-of-turn model (core.conversation.end_of_turn) on LIME rows with inserted pauses."""
