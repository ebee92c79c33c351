"""SentencePiece tokenizer with the fairseq id layout BEiT-3 uses.

Ids: ``<s>`` = 0, ``<pad>`` = 1, ``</s>`` = 2, ``<unk>`` = 3, and every other SentencePiece piece ``i`` becomes
``i + 1`` (the fairseq offset; the SPM model itself has unk=0, bos=1, eos=2). ``<mask>`` would be
``len(spm) + 1``, so the model vocabulary is ``len(spm) + 2`` (64010 for the real ``beit3.spm``).

A sequence is ``[<s>] + pieces[: L - 2] + [</s>]`` padded with ``<pad>`` to L; the padding mask is True on padding.
A real ``beit3.spm`` loads with ``Tokenizer.from_file``; ``Tokenizer.train`` fits a small unigram model offline.

``Tokenizer.encode`` gives the ids of the official BEiT-3 call (transformers' slow ``XLMRobertaTokenizer(spm)``:
``tokenize`` then ``convert_tokens_to_ids``) on ``clean_string(text)``: the strings ``<s>``, ``<pad>``, ``</s>``,
``<unk>`` and ``<mask>`` inside the text are whole tokens (ids 0, 1, 2, 3 and ``len(spm) + 1``), each piece of
text between them is cut by SentencePiece separately, and a piece SentencePiece does not know becomes ``<unk>``.
"""

from __future__ import annotations

import io
import logging
import re
from collections.abc import Iterable, Sequence
from pathlib import Path

import torch

from evaluators.atomic import write_bytes_atomic
from evaluators.errors import InputError

__all__ = [
    "BOS_ID",
    "EOS_ID",
    "PAD_ID",
    "SPECIAL_TOKENS",
    "UNK_ID",
    "Tokenizer",
    "clean_string",
    "clean_text",
]

logger = logging.getLogger(__name__)

BOS_ID, PAD_ID, EOS_ID, UNK_ID = 0, 1, 2, 3
_SPM_UNK, _SPM_BOS, _SPM_EOS = 0, 1, 2
#: The special-token strings the official tokenizer keeps whole inside a text; ``<mask>`` is ``len(spm) + 1``.
SPECIAL_TOKENS = {"<s>": BOS_ID, "<pad>": PAD_ID, "</s>": EOS_ID, "<unk>": UNK_ID}
_SPECIAL_SPLIT = re.compile("(<s>|<pad>|</s>|<unk>|<mask>)")  # no one is a prefix of another: leftmost = trie


def clean_string(expression: str) -> str:
    """Exactly the official ``clean_string``: lower-case, drop ``.,'!?"()*#:;``, turn ``-`` and ``/`` into spaces.

    Whitespace is left as it is (SentencePiece's normaliser handles it), unlike ``clean_text``.
    """
    return re.sub(r"[.,'!?\"()*#:;]", "", expression.lower()).replace("-", " ").replace("/", " ")


def clean_text(text: str) -> str:
    """``clean_string`` with whitespace runs collapsed to one space and the ends stripped (the training corpus
    of ``Tokenizer.train`` is cleaned so)."""
    return re.sub(r"\s+", " ", clean_string(text)).strip()


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
        write_bytes_atomic(path, self._proto, option="tokenizer")

    @property
    def mask_id(self) -> int:
        """Id of ``<mask>``: ``len(spm) + 1`` (the last id of the model vocabulary)."""
        return len(self._sp) + 1

    def encode(self, text: str) -> list[int]:
        """Fairseq ids of ``clean_string(text)`` (no ``<s>``/``</s>`` added), as the official BEiT-3 tokenizer call.

        Special-token strings inside the text (``<s>``, ``<pad>``, ``</s>``, ``<unk>``, ``<mask>``) become their
        ids; the text between them is cut by SentencePiece chunk by chunk; each piece maps to its SentencePiece
        id + 1, or to ``<unk>`` (3) when SentencePiece does not know it. An empty list when nothing is left.
        """
        ids: list[int] = []
        for chunk in _SPECIAL_SPLIT.split(clean_string(text)):
            if not chunk:
                continue
            if chunk == "<mask>":
                ids.append(self.mask_id)
            elif chunk in SPECIAL_TOKENS:
                ids.append(SPECIAL_TOKENS[chunk])
            else:
                ids.extend(self._piece_id(p) for p in self._sp.EncodeAsPieces(chunk))
        return ids

    def _piece_id(self, piece: str) -> int:
        if piece in SPECIAL_TOKENS:
            return SPECIAL_TOKENS[piece]
        if piece == "<mask>":
            return self.mask_id
        spm_id = self._sp.PieceToId(piece)
        return spm_id + 1 if spm_id != _SPM_UNK else UNK_ID

    def encode_batch(self, texts: Sequence[str], max_len: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Return ``(ids LongTensor[B, L], pad_mask BoolTensor[B, L])``, True on padding, L = ``max_len``."""
        if max_len < 2:
            raise InputError(f"tokenizer: max_len: must be >= 2, got {max_len}")
        ids = torch.full((len(texts), max_len), PAD_ID, dtype=torch.long)
        pad_mask = torch.ones((len(texts), max_len), dtype=torch.bool)
        for row, text in enumerate(texts):
            seq = [BOS_ID, *self.encode(text)[: max_len - 2], EOS_ID]
            ids[row, : len(seq)] = torch.tensor(seq, dtype=torch.long)
            pad_mask[row, : len(seq)] = False  # by length: a literal "<pad>" in the text is a real token
        return ids, pad_mask
