"""CogAudio desktop app (PySide6). The only package that imports Qt; it imports core, never training."""
