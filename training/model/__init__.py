"""The CogAudio model: Whisper encoder, ultravox projector (llama.cpp mtmd layout), causal LM with LoRA."""
