"""Conversation engines: CascadeEngine (ASR + cues + text LLM) and AudioLLMEngine (mtmd audio LLM)."""
