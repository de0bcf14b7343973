"""Optional sentence embeddings: a third view beside word stems and char n-grams.

Lexical matching cannot bridge paraphrases that share no stem ("how many points on my card" vs
"rewards balance"). An embedding model can, but the default install must not need one, and none
may be fetched at run time. So this is an extra (`pip install 'nudge[embeddings]'`) built on a
package that ships its weights inside its wheel: WordLlama (MIT; 256-dimensional token
embeddings distilled from an LLM's embedding table, mean-pooled; 16 MB; about 0.04 ms per
question on one core). Switched on by `knowledge.embeddings: wordllama` in config.yaml.

The model files are read from the installed package directory and nowhere else: WordLlama's own
loader would look for the tokenizer in a folder the 0.4 wheel does not use and then try to
download it, which must never happen in production.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Literal, Protocol

import numpy as np

from bot.knowledge.terms import FloatArray
from bot.knowledge.text import MAX_CHARS  # as far as the lexical views read: a paste costs no more

EmbeddingsName = Literal["none", "wordllama"]


class EmbeddingsUnavailable(RuntimeError):
    """The configured embedding model cannot be loaded; the message says how to fix it."""


class SentenceEmbedder(Protocol):
    """Texts in, one L2-normalised row per text out (a blank text gives a zero row)."""

    name: str

    def embed(self, texts: Sequence[str]) -> FloatArray: ...


class WordLlamaEmbedder:
    name = "wordllama"

    WEIGHTS = ("weights", "l2_supercat_256.safetensors")
    TOKENIZER = "l2_supercat_tokenizer_config.json"
    # The 0.4 wheel ships the first folder; WordLlama's own loader looks in the second.
    TOKENIZER_FOLDERS = ("tokenizers", "tokenizer")

    def __init__(self) -> None:
        try:
            import wordllama  # type: ignore[import-untyped]
            from safetensors import safe_open
            from tokenizers import Tokenizer
            from wordllama.inference import WordLlamaInference  # type: ignore[import-untyped]
        except ImportError as exc:
            raise EmbeddingsUnavailable(
                "knowledge.embeddings is 'wordllama' but the package is not installed: "
                "pip install 'nudge[embeddings]' (or set knowledge.embeddings: none)"
            ) from exc
        root = Path(wordllama.__file__).parent
        weights = root.joinpath(*self.WEIGHTS)
        candidates = [root / folder / self.TOKENIZER for folder in self.TOKENIZER_FOLDERS]
        tokenizer = next((path for path in candidates if path.is_file()), None)
        if not weights.is_file() or tokenizer is None:
            raise EmbeddingsUnavailable(
                f"the installed wordllama ({root}) does not ship its model files "
                f"({'/'.join(self.WEIGHTS)} and the tokenizer config); nudge reads them from "
                "the package and never downloads: reinstall 'nudge[embeddings]'"
            )
        with safe_open(str(weights), framework="np", device="cpu") as handle:
            table = handle.get_tensor("embedding.weight")
        self._model = WordLlamaInference(table, Tokenizer.from_file(str(tokenizer)))
        self.dim = int(table.shape[1])

    def embed(self, texts: Sequence[str]) -> FloatArray:
        rows = np.zeros((len(texts), self.dim), dtype=np.float32)
        present = [i for i, text in enumerate(texts) if text.strip()]
        if present:
            vectors = self._model.embed([texts[i][:MAX_CHARS] for i in present], norm=False)
            rows[present] = np.asarray(vectors, dtype=np.float32)
        return normalise_rows(rows)


def normalise_rows(rows: FloatArray) -> FloatArray:
    """Each row to unit length; zero rows stay zero (they then score 0 against everything)."""
    norms = np.linalg.norm(rows, axis=1, keepdims=True)
    unit: FloatArray = np.divide(rows, norms, out=np.zeros_like(rows), where=norms > 0)
    return unit.astype(np.float32)


def load_embedder(name: str) -> SentenceEmbedder | None:
    """`none` -> None (lexical views only); `wordllama` -> the model, or EmbeddingsUnavailable."""
    if name == "none":
        return None
    if name == "wordllama":
        return WordLlamaEmbedder()
    raise EmbeddingsUnavailable(f"unknown knowledge.embeddings {name!r}: use none or wordllama")
