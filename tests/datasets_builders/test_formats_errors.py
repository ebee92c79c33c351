"""Bad input in the other source layouts: one ``error:`` line naming file, record and field; exit 2;
nothing written."""

import json
import shutil
import subprocess
import sys
import zipfile

import pyarrow.parquet as pq
import pytest

from datasets_builders.build import build_dataset
from evaluators.errors import InputError


def _cli(*args):
    return subprocess.run(
        [sys.executable, "-m", "vgbench", *args], capture_output=True, text=True, timeout=300
    )


def test_unknown_layout_lists_the_layouts_read(tmp_path):
    src = tmp_path / "src"
    (src / "something").mkdir(parents=True)
    (src / "something" / "notes.txt").write_text("hello")
    proc = _cli("build", "--source", str(src), "--out", str(tmp_path / "out"), "--quiet")
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("error:")
    for layout in ("official", "zip", "instancevg", "jxu124", "lmms-lab"):
        assert f"{layout}:" in lines[0]
    assert not (tmp_path / "out").exists()


def test_unknown_format_name(synth_src, tmp_path):
    proc = _cli("build", "--source", str(synth_src), "--out", str(tmp_path / "out"), "--format", "coco-json")
    assert proc.returncode == 2
    assert "--format: unknown layout 'coco-json'" in proc.stderr
    assert not (tmp_path / "out").exists()


def test_format_names_a_layout_not_present(synth_src, tmp_path):
    with pytest.raises(InputError, match="no source files found for any config"):
        build_dataset(synth_src / "formats" / "zip", tmp_path / "out", layout="jxu124", quiet=True)
    assert not (tmp_path / "out").exists()


def _copy(synth_src, tmp_path, layout):
    dst = tmp_path / layout
    shutil.copytree(synth_src / "formats" / layout, dst)
    return dst


def test_instancevg_record_without_a_field(synth_src, tmp_path):
    src = _copy(synth_src, tmp_path, "instancevg")
    path = src / "grefs" / "instance.json"
    data = json.loads(path.read_text())
    del data["val"][3]["expressions"]
    path.write_text(json.dumps(data))
    with pytest.raises(InputError, match=r"grefs/instance\.json:val\[3\]: expressions: missing"):
        build_dataset(src, tmp_path / "out", images=synth_src / "images", quiet=True)
    assert not (tmp_path / "out").exists()


def test_instancevg_mixed_record_with_a_bad_box(synth_src, tmp_path):
    src = _copy(synth_src, tmp_path, "instancevg")
    path = src / "mixed-seg" / "instances_nogoogle_withid.json"
    data = json.loads(path.read_text())
    data["testA_refcoco_unc"][1]["bbox"] = [1, 2, 3]
    path.write_text(json.dumps(data))
    proc = _cli("build", "--source", str(src), "--out", str(tmp_path / "out"), "--quiet")
    assert proc.returncode == 2
    assert "instances_nogoogle_withid.json:testA_refcoco_unc[1]: bbox: expected [x, y, w, h]" in proc.stderr
    assert not (tmp_path / "out").exists()


def test_jxu124_missing_column(synth_src, tmp_path):
    src = _copy(synth_src, tmp_path, "jxu124")
    path = src / "refcocog" / "data" / "validation-00000-of-00001.parquet"
    table = pq.read_table(path)
    pq.write_table(table.drop_columns(["sentences"]), path)
    with pytest.raises(InputError, match=r"validation-00000-of-00001\.parquet: column sentences: missing"):
        build_dataset(src, tmp_path / "out", quiet=True)
    assert not (tmp_path / "out").exists()


def test_jxu124_bad_json_field(synth_src, tmp_path):
    src = _copy(synth_src, tmp_path, "jxu124")
    path = src / "refcoco" / "data" / "testB-00000-of-00001.parquet"
    rows = pq.read_table(path).to_pylist()
    rows[2]["raw_anns"] = "{not json"
    import pyarrow as pa

    pq.write_table(pa.Table.from_pylist(rows, schema=pq.read_schema(path)), path)
    with pytest.raises(InputError, match=r"testB-00000-of-00001\.parquet:row 2: raw_anns: not valid JSON"):
        build_dataset(src, tmp_path / "out", quiet=True)


def test_lmms_lab_row_without_image_bytes(synth_src, tmp_path):
    src = _copy(synth_src, tmp_path, "lmms-lab")
    path = src / "RefCOCO" / "data" / "testA-00000-of-00001.parquet"
    import pyarrow as pa

    rows = pq.read_table(path).to_pylist()
    rows[0]["image"] = {"bytes": None, "path": None}
    pq.write_table(pa.Table.from_pylist(rows, schema=pq.read_schema(path)), path)
    with pytest.raises(
        InputError, match=r"testA-00000-of-00001\.parquet:row 0: image: no embedded image bytes"
    ):
        build_dataset(src, tmp_path / "out", quiet=True)


def test_corrupt_zip(synth_src, tmp_path):
    src = _copy(synth_src, tmp_path, "zip")
    (src / "refcocog.zip").write_bytes(b"PK\x03\x04 not a zip")
    with pytest.raises(InputError, match=r"refcocog\.zip: not a readable zip archive"):
        build_dataset(src, tmp_path / "out", quiet=True)
    assert not (tmp_path / "out").exists()


def test_zip_pickle_is_untrusted(synth_src, tmp_path):
    src = _copy(synth_src, tmp_path, "zip")
    payload = b"cos\nsystem\n(S'echo pwned'\ntR."
    archive = src / "refcoco+.zip"
    with zipfile.ZipFile(archive) as zf:
        members = {n: zf.read(n) for n in zf.namelist()}
    members["refcoco+/refs(unc).p"] = payload
    with zipfile.ZipFile(archive, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    with pytest.raises(
        InputError, match=r"refcoco\+\.zip:refcoco\+/refs\(unc\)\.p: unsafe or corrupt pickle"
    ):
        build_dataset(src, tmp_path / "out", quiet=True)


def test_truncated_coco_full_file(synth_src, tmp_path):
    src = _copy(synth_src, tmp_path, "coco-full")
    path = src / "annotations" / "instances_train2014.json"
    path.write_text(path.read_text()[:-5000])
    with pytest.raises(InputError, match=r"instances_train2014\.json: not valid JSON"):
        build_dataset(src, tmp_path / "out", configs=["refcoco_unc"], quiet=True)
    assert not (tmp_path / "out").exists()


def test_instancevg_annotation_with_a_text_category(synth_src, tmp_path):
    src = _copy(synth_src, tmp_path, "instancevg")
    path = src / "ref-zom" / "instance.json"
    data = json.loads(path.read_text())
    rec = next(r for r in data["test"] if r["annotations"])
    rec["annotations"][0]["category_id"] = "dog"
    k = data["test"].index(rec)
    path.write_text(json.dumps(data))
    with pytest.raises(
        InputError, match=rf"ref-zom/instance\.json:test\[{k}\]\.annotations\[0\]: category_id"
    ):
        build_dataset(src, tmp_path / "out", images=synth_src / "images", quiet=True)


def test_coco_full_annotation_with_a_list_id(synth_src, tmp_path):
    src = _copy(synth_src, tmp_path, "coco-full")
    path = src / "annotations" / "instances_train2014.json"
    data = json.loads(path.read_text())
    data["annotations"][4]["id"] = [1, 2]
    path.write_text(json.dumps(data))
    with pytest.raises(
        InputError, match=r"instances_train2014\.json:annotations\[4\]: id: expected an integer"
    ):
        build_dataset(src, tmp_path / "out", configs=["refcoco_unc"], quiet=True)


def test_instancevg_empty_mask_is_an_empty_target_mask(synth_src, tmp_path):
    """The official loader turns a falsy ``mask`` into an all-zero mask; so does the reader."""
    from datasets_builders.reading import iter_rows

    src = _copy(synth_src, tmp_path, "instancevg")
    path = src / "mixed-seg" / "instances_nogoogle_withid.json"
    data = json.loads(path.read_text())
    data["val_refcoco_unc"][0]["mask"] = None
    path.write_text(json.dumps(data))
    out = build_dataset(src, tmp_path / "out", configs=["refcoco_unc"], quiet=True)
    row = next(iter_rows(out, "refcoco_unc", "val"))
    from evaluators import rle

    assert rle.area(row["targets"][0]["mask"]) == 0
    assert row["target_type"] == "single"
