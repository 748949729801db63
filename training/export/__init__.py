"""Export a trained CogAudio model to what llama.cpp runs: GGUF LLM/LoRA + ultravox mmproj + manifest.

Modules: mmproj (encoder + projector -> mmproj GGUF), lora_gguf (peft LoRA -> llama.cpp
adapter GGUF), merged (LoRA merged into the LLM -> one GGUF), quantize (llama.cpp and gguf-py
requantization), manifest (writes core.models.manifest files), parity (PyTorch vs llama.cpp),
exporter (the whole export from a checkpoint folder), cli (`cogaudio-train export|quantize`).
"""
