"""The ear: how the person sounds, heard against their own voice.

The Whisper encoder frames of the turn (core.speech.encoder_pass, the pass the transcript
also uses) are pooled over the speech (`pooling`), normalised by the speaker's running
baseline (`baseline`) and scored by a small calibrated head (`head`); `ear` composes them.
"""
