"""Model files on disk: the bundled-model lookup, the catalogue and downloads (registry), the
audio-model manifest and its checks, and the cached LoRA merge.
"""
