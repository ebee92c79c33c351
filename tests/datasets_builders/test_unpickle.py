"""Pickles are untrusted: only builtin containers and scalars load; anything else runs nothing."""

import os
import pickle

import pytest

from datasets_builders.unpickle import load_pickle, loads_restricted
from evaluators.errors import InputError


class _Exploit:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_malicious_pickle_is_refused_and_runs_nothing(tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / "refs(unc).p"
    path.write_bytes(pickle.dumps([{"ref_id": 0, "evil": _Exploit(marker)}], protocol=2))
    assert pickle.loads(pickle.dumps(1)) == 1  # sanity: the plain unpickler works here
    with pytest.raises(InputError, match=r"refs\(unc\)\.p.*refused global"):
        load_pickle(path)
    assert not marker.exists()


@pytest.mark.parametrize("payload", [b"cbuiltins\neval\n(S'1+1'\ntR.", b"\x80\x02cposix\nsystem\nq\x00."])
def test_any_global_is_refused(payload):
    with pytest.raises(InputError, match="refused global"):
        loads_restricted(payload, "x.p")


def test_python2_style_protocol2_pickle_loads_with_text():
    refs = [{"ref_id": 1, "sentences": [{"sent": "the red circle", "tokens": ["the", "red"]}], "ann_id": 7}]
    assert loads_restricted(pickle.dumps(refs, protocol=2)) == refs
    # Python-2 `str` is SHORT_BINSTRING: read as latin1 text, never bytes
    py2 = b"\x80\x02]q\x00}q\x01U\x04sentq\x02U\x05caf\xe9!q\x03sa."
    assert loads_restricted(py2) == [{"sent": "café!"}]
    assert loads_restricted(pickle.dumps({b"k": (b"v", 1.5, None, True)}, protocol=4)) == {
        "k": ("v", 1.5, None, True)
    }


def test_corrupt_pickle_is_a_clear_error(tmp_path):
    path = tmp_path / "refs(umd).p"
    path.write_bytes(b"\x80\x02]q\x00(K\x01")
    with pytest.raises(InputError, match=r"refs\(umd\)\.p"):
        load_pickle(path)
    with pytest.raises(InputError, match="cannot read"):
        load_pickle(tmp_path / "missing.p")
