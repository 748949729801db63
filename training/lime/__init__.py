"""LIME: the lexically-identical, multi-emotion dataset builder.

`cogaudio-train lime build --config CONFIG.yaml --out DIR` renders emotionally neutral
texts in every emotion and intensity with several voices (and ingests real corpora);
`cogaudio-train lime verify DIR` checks the result. docs/lime.md describes the schema.
"""
