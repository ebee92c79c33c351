"""SentencePiece tokenizer with the fairseq id layout BEiT-3 uses.

Ids: ``<s>`` = 0, ``<pad>`` = 1, ``</s>`` = 2, ``<unk>`` = 3, and every other SentencePiece piece ``i`` becomes
``i + 1`` (the fairseq offset; the SPM model itself has unk=0, bos=1, eos=2). ``<mask>`` would be
``len(spm) + 1``, so the model vocabulary is ``len(spm) + 2`` (64010 for the real ``beit3.spm``).

A sequence is ``[<s>] + pieces[: L - 2] + [</s>]`` padded with ``<pad>`` to L; the padding mask is True on padding.
A real ``beit3.spm`` loads with ``Tokenizer.from_file``; ``Tokenizer.train`` fits a small unigram model offline.
"""

from __future__ import annotations

import io
import logging
import os
import re
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path

import torch

from evaluators.errors import InputError

__all__ = ["BOS_ID", "EOS_ID", "PAD_ID", "UNK_ID", "Tokenizer", "clean_text"]

logger = logging.getLogger(__name__)

BOS_ID, PAD_ID, EOS_ID, UNK_ID = 0, 1, 2, 3
_SPM_UNK, _SPM_BOS, _SPM_EOS = 0, 1, 2


def clean_text(text: str) -> str:
    """The expression cleaning of the official loaders (``clean_string`` in SimVG/InstanceVG
    ``datasets/pipelines/loading.py``): lower-case, drop ``.,'!?"()*#:;``, turn ``-`` and ``/`` into spaces;
    whitespace is collapsed here (SentencePiece's normaliser does the same)."""
    text = re.sub(r"[.,'!?\"()*#:;]", "", text.lower()).replace("-", " ").replace("/", " ")
    return re.sub(r"\s+", " ", text).strip()


class Tokenizer:
    """Wraps a ``sentencepiece.SentencePieceProcessor`` and maps its ids to the fairseq layout."""

    def __init__(self, model_proto: bytes) -> None:
        import sentencepiece as spm

        self._proto = bytes(model_proto)
        self._sp = spm.SentencePieceProcessor()
        try:
            self._sp.LoadFromSerializedProto(self._proto)
        except RuntimeError as exc:  # a corrupt model (e.g. from a damaged checkpoint)
            reason = (str(exc).strip().splitlines() or ["parse error"])[0]
            raise InputError(f"tokenizer: not a SentencePiece model: {reason}") from None
        if self._sp.unk_id() != _SPM_UNK:
            raise InputError("tokenizer: spm model: unk_id must be 0 (fairseq layout)")

    @classmethod
    def from_file(cls, spm_path: str | Path) -> Tokenizer:
        """Load a SentencePiece model file (e.g. BEiT-3's ``beit3.spm``)."""
        path = Path(spm_path)
        try:
            proto = path.read_bytes()
        except OSError as exc:
            raise InputError(f"{path}: cannot read tokenizer model: {exc.strerror}") from None
        try:
            return cls(proto)
        except RuntimeError as exc:
            raise InputError(f"{path}: not a SentencePiece model: {exc}") from None

    @classmethod
    def train(
        cls, sentences: Iterable[str], model_prefix: str | Path, vocab_size: int, model_type: str = "bpe"
    ) -> Tokenizer:
        """Train a SentencePiece model on ``sentences`` and write ``<model_prefix>.model``.

        ``vocab_size`` is the wished model vocabulary (fairseq ids included); the SentencePiece vocabulary is
        ``vocab_size - 2`` pieces at most and is allowed to be smaller when the corpus is small. The default
        ``model_type="bpe"`` gives whole-word pieces on a small toy grammar, where SentencePiece's unigram
        trainer collapses to single characters (``beit3.spm`` itself is a unigram model; both load alike).
        Raises InputError when ``vocab_size`` cannot hold every character of the corpus.
        """
        import sentencepiece as spm

        corpus = [clean_text(s) for s in sentences]
        corpus = [s for s in corpus if s]
        if not corpus:
            raise InputError("tokenizer: train: no non-empty sentence to train on")
        pieces = max(vocab_size - 2, 8)
        proto = io.BytesIO()
        try:
            spm.SentencePieceTrainer.train(
                sentence_iterator=iter(corpus),
                model_writer=proto,
                vocab_size=pieces,
                hard_vocab_limit=False,
                model_type=model_type,
                character_coverage=1.0,
                unk_id=_SPM_UNK,
                bos_id=_SPM_BOS,
                eos_id=_SPM_EOS,
                pad_id=-1,
                num_threads=1,
                minloglevel=2,
            )
        except RuntimeError as exc:
            raise InputError(
                f"tokenizer: vocab_size: cannot train {vocab_size} ids on this corpus: {exc}"
            ) from None
        tok = cls(proto.getvalue())
        tok.save(Path(str(model_prefix) + ".model"))
        logger.info("trained a %d-piece SentencePiece model on %d sentences", len(tok._sp), len(corpus))
        return tok

    @property
    def vocab_size(self) -> int:
        """Model vocabulary: SentencePiece pieces + 1 (fairseq offset) + 1 (``<mask>``)."""
        return len(self._sp) + 2

    def save(self, path: str | Path) -> None:
        """Write the SentencePiece model atomically (temp file, then rename)."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name + ".", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(self._proto)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def encode(self, text: str) -> list[int]:
        """Fairseq ids of the pieces of ``text`` (no ``<s>``/``</s>``)."""
        ids = self._sp.EncodeAsIds(clean_text(text))
        return [UNK_ID if i == _SPM_UNK else i + 1 for i in ids]

    def encode_batch(self, texts: Sequence[str], max_len: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Return ``(ids LongTensor[B, L], pad_mask BoolTensor[B, L])``, True on padding, L = ``max_len``."""
        if max_len < 2:
            raise InputError(f"tokenizer: max_len: must be >= 2, got {max_len}")
        ids = torch.full((len(texts), max_len), PAD_ID, dtype=torch.long)
        for row, text in enumerate(texts):
            seq = [BOS_ID, *self.encode(text)[: max_len - 2], EOS_ID]
            ids[row, : len(seq)] = torch.tensor(seq, dtype=torch.long)
        return ids, ids == PAD_ID
