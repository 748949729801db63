"""EIPS annotation of LIME rows by a teacher LLM (GGUF or OpenAI-compatible) or the template annotator."""
