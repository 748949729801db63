"""CogAudioModel: Whisper encoder -> ultravox projector -> causal LM (with LoRA), in PyTorch.

One example is a `Segmented` prompt: tokens before the audio, the audio's mel chunks (as
mtmd cuts them), tokens after it, and optionally the target tokens to learn. The model
embeds the tokens with the LLM's own embedding table and puts the projected audio in
between, exactly where mtmd puts it at run time. `next_token_logits` is the parity hook for
the export engineer: same audio + prompt in, next-token logits out.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from core.emotion.labels import EMOTIONS
from core.engines.decoding import generate_kwargs
from core.models.audio_tokens import tokens_per_chunk
from core.settings import DecodingSettings
from training.model.config import ModelConfig
from training.model.projector import UltravoxProjector

IGNORE = -100
AUX_SCALE = 10.0


@dataclass
class Segmented:
    before: list[int]
    mel: torch.Tensor | None  # (chunks, n_mels, 3000) or None for text-only prompts
    after: list[int]
    target: list[int]  # empty at inference
    n_valid: int | None = None  # audio tokens that cover real samples (the rest is mtmd's padding)
    frames: torch.Tensor | None = None  # (T, d) cached encoder frames of the speech (audio_input asr-encoder-frames)


def build_encoder(cfg: ModelConfig) -> nn.Module:
    """The transformers WhisperEncoder named by the config (random init or real weights)."""
    from transformers import WhisperConfig
    from transformers.models.whisper.modeling_whisper import WhisperEncoder

    if cfg.encoder_init.startswith("ct2:"):  # the installed faster-whisper models (training/model/whisper_ct2.py)
        from training.model.whisper_ct2 import load_whisper_encoder

        encoder = load_whisper_encoder(cfg.encoder_init)
        if encoder.config.num_mel_bins != cfg.n_mels:
            raise ValueError(f"encoder {cfg.encoder_init} takes {encoder.config.num_mel_bins} mel bins but "
                             f"n_mels is {cfg.n_mels}; set n_mels: {encoder.config.num_mel_bins}")
        return encoder
    if cfg.encoder_init != "scratch":
        from transformers import WhisperModel

        return WhisperModel.from_pretrained(cfg.encoder_init).encoder
    wcfg = WhisperConfig(
        num_mel_bins=cfg.n_mels, d_model=cfg.encoder_d_model, encoder_layers=cfg.encoder_layers,
        encoder_attention_heads=cfg.encoder_heads, encoder_ffn_dim=cfg.encoder_ffn_dim,
        max_source_positions=1500, activation_function="gelu", dropout=0.0,
    )
    encoder = WhisperEncoder(wcfg)
    # Whisper's init (normal, std 0.02) leaves the conv output ~50x smaller than the fixed
    # sinusoidal positions it is added to, so a scratch encoder first sees only positions and
    # learns very slowly; He init gives the audio path the same scale as the positions.
    for conv in (encoder.conv1, encoder.conv2):
        nn.init.kaiming_normal_(conv.weight, nonlinearity="relu")
    return encoder


class CogAudioModel(nn.Module):
    def __init__(self, cfg: ModelConfig, llm: nn.Module, tokenizer, encoder: nn.Module) -> None:
        super().__init__()
        self.cfg = cfg
        self.tokenizer = tokenizer
        self.encoder = encoder
        d_llm = llm.get_input_embeddings().weight.shape[1]
        self.projector = UltravoxProjector(encoder.config.d_model, cfg.stack_factor, cfg.projector_hidden, d_llm)
        self.llm = llm
        label_embeds = None
        if cfg.aux_classifier:
            # scores audio against the LLM's own embeddings of " neutral", " happy", ...: no new
            # weights, and it pulls the projected audio toward the words the LLM must then say
            ids = [tokenizer(" " + e, add_special_tokens=False).input_ids[0] for e in EMOTIONS]
            label_embeds = llm.get_input_embeddings().weight[ids].detach().clone()
        self.register_buffer("label_embeds", label_embeds, persistent=False)
        self.tokens_per_chunk = tokens_per_chunk(cfg.stack_factor)
        self._apply_trainability()

    @classmethod
    def build(cls, cfg: ModelConfig) -> CogAudioModel:
        from training.model.llm import load_llm, load_tokenizer

        tok = load_tokenizer(cfg.llm, cfg.llm_gguf_file)
        llm = load_llm(cfg.llm, cfg.llm_gguf_file, cfg.llm_dtype, vocab_size=len(tok))
        if cfg.lora_r > 0:
            from peft import LoraConfig, get_peft_model

            lcfg = LoraConfig(r=cfg.lora_r, lora_alpha=cfg.lora_alpha, lora_dropout=cfg.lora_dropout,
                              target_modules=list(cfg.lora_target_modules), task_type="CAUSAL_LM")
            llm = get_peft_model(llm, lcfg)
        if cfg.gradient_checkpointing:
            llm.gradient_checkpointing_enable()
            llm.enable_input_require_grads()
        return cls(cfg, llm, tok, build_encoder(cfg))

    def _apply_trainability(self) -> None:
        if self.cfg.lora_r == 0:
            self.llm.requires_grad_(False)  # with LoRA, peft already froze the base weights
        if not self.cfg.train_encoder:
            self.encoder.requires_grad_(False)
        else:
            self.encoder.requires_grad_(True)
            self.encoder.embed_positions.requires_grad_(False)  # Whisper keeps sinusoids fixed

    @property
    def device(self) -> torch.device:
        return self.projector.linear_1.weight.device

    def embed_tokens(self, ids: list[int]) -> torch.Tensor:
        table = self.llm.get_input_embeddings()
        return table(torch.tensor(ids, dtype=torch.long, device=self.device))

    def encode_audio(self, mel: torch.Tensor) -> torch.Tensor:
        """(chunks, n_mels, 3000) -> (chunks, tokens_per_chunk, d_llm), one chunk at a time as mtmd does."""
        frames = self.encoder(mel.to(self.device, self.projector.linear_1.weight.dtype)).last_hidden_state
        return self.projector(frames)

    def project_frames(self, frames: torch.Tensor) -> torch.Tensor:
        """(T, d) cached encoder frames -> (ceil(T / stack), d_llm): the projector alone, as the app
        runs it on the transcript's encoder pass (core.ear.projector)."""
        return self.projector(frames[None].to(self.device, self.projector.linear_1.weight.dtype))[0]

    def _assemble(self, examples: list[Segmented], left_pad: bool):
        mels = [e.mel for e in examples if e.mel is not None]
        audio = self.encode_audio(torch.cat(mels)) if mels else None
        seqs, labels, pooled, k = [], [], [], 0
        emb_dtype = self.llm.get_input_embeddings().weight.dtype
        for e in examples:
            parts = [self.embed_tokens(e.before)]
            n_prompt = len(e.before)
            if e.frames is not None:
                a = self.project_frames(e.frames)
                parts.append(a.to(emb_dtype))
                pooled.append(a.mean(0))
                n_prompt += a.shape[0]
            elif e.mel is not None:
                a = audio[k:k + e.mel.shape[0]].reshape(-1, audio.shape[-1])
                k += e.mel.shape[0]
                if self.cfg.audio_tail_tokens is not None and e.n_valid:
                    # the speech part only, as core.engines.mtmd_eval gives llama.cpp at run time
                    a = a[: e.n_valid + self.cfg.audio_tail_tokens]
                parts.append(a.to(emb_dtype))
                pooled.append(a[: e.n_valid or a.shape[0]].mean(0))
                n_prompt += a.shape[0]
            ids_after = e.after + e.target
            if ids_after:
                parts.append(self.embed_tokens(ids_after))
            n_prompt += len(e.after)
            seqs.append(torch.cat(parts))
            labels.append([IGNORE] * n_prompt + list(e.target))
        width = max(s.shape[0] for s in seqs)
        d = seqs[0].shape[1]
        embeds = seqs[0].new_zeros(len(seqs), width, d)
        mask = torch.zeros(len(seqs), width, dtype=torch.long, device=self.device)
        lab = torch.full((len(seqs), width), IGNORE, dtype=torch.long, device=self.device)
        for i, (s, y) in enumerate(zip(seqs, labels, strict=True)):
            sl = slice(width - s.shape[0], width) if left_pad else slice(0, s.shape[0])
            embeds[i, sl] = s
            mask[i, sl] = 1
            lab[i, sl] = torch.tensor(y, device=self.device)
        return embeds, mask, lab, (torch.stack(pooled) if pooled else None)

    def forward(self, examples: list[Segmented], emotion_ids: torch.Tensor | None = None,
                aux_weight: float = 0.0, lm_weight: float = 1.0) -> dict[str, torch.Tensor]:
        """Training losses. With lm_weight == 0 the LLM is skipped (encoder warm-up on the aux head)."""
        out: dict[str, torch.Tensor] = {}
        if lm_weight > 0:
            embeds, mask, labels, pooled = self._assemble(examples, left_pad=False)
            res = self.llm(inputs_embeds=embeds, attention_mask=mask, labels=labels)
            out["lm_loss"] = res.loss
        elif examples[0].frames is not None:
            pooled = torch.stack([self.project_frames(e.frames).mean(0) for e in examples])
        else:
            audio = self.encode_audio(torch.cat([e.mel for e in examples]))
            pooled = torch.stack([a[: e.n_valid or a.shape[0]].mean(0) for a, e in zip(audio, examples, strict=True)])
        if self.label_embeds is not None and emotion_ids is not None and aux_weight > 0 and pooled is not None:
            # cosine scores with a fixed temperature: only the direction of the audio is pulled
            logits = AUX_SCALE * F.normalize(pooled.float(), dim=-1) @ F.normalize(self.label_embeds.float(), dim=-1).T
            out["aux_loss"] = F.cross_entropy(logits, emotion_ids.to(self.device))
            out["aux_acc"] = (logits.argmax(-1) == emotion_ids.to(self.device)).float().mean()
        loss = lm_weight * out.get("lm_loss", 0.0) + aux_weight * out.get("aux_loss", 0.0)
        out["loss"] = loss if torch.is_tensor(loss) else torch.tensor(loss)
        return out

    @torch.no_grad()
    def next_token_logits(self, example: Segmented) -> torch.Tensor:
        """Logits for the token after `before + audio + after` (parity check against llama.cpp)."""
        embeds, mask, _, _ = self._assemble([example], left_pad=True)
        return self.llm(inputs_embeds=embeds, attention_mask=mask).logits[0, -1].float()

    @torch.no_grad()
    def generate(self, examples: list[Segmented], max_new_tokens: int = 96, decoding: DecodingSettings | None = None,
                 temperature: float = 0.0) -> list[str]:
        """Continuations, decoded without special tokens. Plain greedy by default (training's emotion
        evaluation); with `decoding` (the app's engine.decoding) as the app decodes: its penalties and,
        at temperature > 0, sampling seeded with decoding.seed (core.engines.decoding.generate_kwargs)."""
        embeds, mask, _, _ = self._assemble(examples, left_pad=True)
        with torch.random.fork_rng(devices=[]):  # a seeded call leaves the caller's random state alone
            if decoding is not None:
                torch.manual_seed(decoding.seed)
            out = self.llm.generate(
                inputs_embeds=embeds, attention_mask=mask, max_new_tokens=max_new_tokens,
                pad_token_id=self.tokenizer.pad_token_id, eos_token_id=self.tokenizer.eos_token_id,
                **generate_kwargs(temperature, decoding),
            )
        return self.tokenizer.batch_decode(out, skip_special_tokens=True)
