"""Computed results join the published tables as reproduced rows, with the right difference."""

import json
import logging

import pytest

from evaluators.errors import InputError
from leaderboards import build_table, load_results, load_results_dir, render_results_table, render_table


def results_json(task="gres", protocol="gres/rela", metrics=None, targets="data:grefcoco_unc/val", **extra):
    data = {
        "task": task,
        "protocol": protocol,
        "protocol_version": 1,
        "protocol_params": {"resize": None, "thresholds": [0.7, 0.8, 0.9]},
        "metrics": metrics
        if metrics is not None
        else {"giou": 73.5, "ciou": 69.0, "n_acc": None, "t_acc": 90.0},
        "counts": {"expressions": 10, "no_target": 0, "missing": 0},
        "breakdown": {},
        "targets": targets,
        "targets_sha256": "0" * 64,
        "predictions": "preds.jsonl",
        "predictions_sha256": "0" * 64,
        "vgbench_version": "0.1.0",
        "created": "2026-01-01T00:00:00+00:00",
    }
    data.update(extra)
    return data


def write(path, data):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data))
    return path


def gres_rows(results):
    _, (table,) = build_table("gres", results)
    return table, {r.kind: r for r in table.rows if r.kind in ("reproduced", "delta")}


def test_reproduced_row_and_delta_against_the_same_published_model(tmp_path):
    res = load_results(write(tmp_path / "r.json", results_json(model="InstanceVG (Ours)")))
    table, rows = gres_rows([res])
    keys = table.header.leaf_keys
    rep, delta = rows["reproduced"], rows["delta"]
    assert rep.labels == ("InstanceVG (Ours) (reproduced; gres/rela v1)", "")
    cells = dict(zip(keys, (c.text for c in rep.cells)))
    assert cells["grefcoco_unc/val/giou"] == "73.50"  # published 73.36
    assert cells["grefcoco_unc/val/ciou"] == "69.00"  # published 69.22
    assert cells["grefcoco_unc/val/n_acc"] == "n/a"  # null: empty denominator
    assert cells["grefcoco_unc/testA/giou"] == "-"  # not computed
    d = dict(zip(keys, (c.text for c in delta.cells)))
    assert delta.labels[0] == "Δ vs published InstanceVG (Ours) BEiT3-ViT-B"
    assert d["grefcoco_unc/val/giou"] == "+0.14"
    assert d["grefcoco_unc/val/ciou"] == "-0.22"
    assert d["grefcoco_unc/val/n_acc"] == ""
    assert d["grefcoco_unc/testA/giou"] == ""
    # reproduced rows never take part in the bold / underline ranking of published rows
    assert all(c.mark == "" for c in rep.cells)


def test_grec_delta_uses_the_table_decimals(tmp_path):
    res = load_results(
        write(
            tmp_path / "grefcoco_unc_testB_grec.json",
            results_json(
                "grec",
                "grec/grefcoco",
                {"f1_score": 61.23, "n_acc": 65.0},
                targets="t.jsonl",
                model="instancevg",
            ),
        )
    )
    _, (table,) = build_table("grec", [res])
    delta = next(r for r in table.rows if r.kind == "delta")
    d = dict(zip(table.header.leaf_keys, (c.text for c in delta.cells)))
    assert d["grefcoco_unc/testB/f1_score"] == "+0.4"  # 61.23 - 60.8, one decimal as the table prints
    assert d["grefcoco_unc/testB/n_acc"] == "-0.2"  # 65.0 - 65.2


def test_protocols_and_resolutions_are_separate_rows_with_the_protocol_shown(tmp_path):
    a = load_results(write(tmp_path / "a.json", results_json(model="X")))
    b = load_results(write(tmp_path / "b.json", results_json(protocol="gres/instancevg", model="X")))
    c = load_results(
        write(
            tmp_path / "c.json",
            results_json(model="X", protocol_params={"resize": 320, "thresholds": [0.7, 0.8, 0.9]}),
        )
    )
    _, (table,) = build_table("gres", [a, b, c])
    labels = [r.labels[0] for r in table.rows if r.kind == "reproduced"]
    assert labels == [
        "X (reproduced; gres/rela v1)",
        "X (reproduced; gres/instancevg v1)",
        "X (reproduced; gres/rela v1, resize=320)",
    ]


def test_ambiguous_model_gets_a_note_and_backbone_resolves_it(tmp_path):
    data = results_json(
        "rec", "rec/iou", {"prec@0.5": 94.0}, targets="data:refcoco_unc/val", model="InstanceVG (Ours)"
    )
    _, (table,) = build_table("rec", [load_results(write(tmp_path / "a.json", data))])
    assert not any(r.kind == "delta" for r in table.rows)
    assert table.notes
    assert "2 published rows match" in table.notes[0]
    data["backbone"] = "BEiT3-ViT-L"
    _, (table,) = build_table("rec", [load_results(write(tmp_path / "b.json", data))])
    delta = next(r for r in table.rows if r.kind == "delta")
    assert (
        dict(zip(table.header.leaf_keys, (c.text for c in delta.cells)))["refcoco_unc/val/prec@0.5"]
        == "-0.42"
    )


def test_synthetic_and_other_task_results_do_not_join(tmp_path):
    syn = load_results(write(tmp_path / "s.json", results_json(model="InstanceVG (Ours)", synthetic=True)))
    other = load_results(
        write(tmp_path / "o.json", results_json("rec", "rec/iou", {"prec@0.5": 1.0}, model="Y"))
    )
    _table, rows = gres_rows([syn, other])
    assert rows == {}


def test_the_same_row_and_split_from_two_files_is_an_error(tmp_path):
    a = load_results(write(tmp_path / "a.json", results_json(model="X")))
    b = load_results(write(tmp_path / "b.json", results_json(model="X")))
    with pytest.raises(InputError, match="is also given by"):
        build_table("gres", [a, b])


def test_results_dir_conventions(tmp_path, caplog):
    root = tmp_path / "results"
    write(root / "ModelA" / "x.json", results_json())  # model from the folder
    write(
        root / "grefcoco_unc_testA_gres.json", results_json(targets="t.jsonl", model="ModelB")
    )  # dataset from the name
    write(
        root / "meta.json",
        results_json(
            targets="t.jsonl", meta={"model": "ModelC", "dataset": "grefcoco_unc", "split": "testB"}
        ),
    )
    write(root / "ModelA" / "config.json", {"lr": 1})  # not a results file
    with caplog.at_level(logging.WARNING):
        loaded = load_results_dir(root)
    assert "config.json: not a results file" in caplog.text.replace(str(root / "ModelA") + "/", "")
    got = sorted((r.model, r.dataset, r.split) for r in loaded)
    assert got == [
        ("ModelA", "grefcoco_unc", "val"),
        ("ModelB", "grefcoco_unc", "testA"),
        ("ModelC", "grefcoco_unc", "testB"),
    ]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (results_json(), "model: unknown"),
        (results_json(model="X", targets="t.jsonl"), "cannot tell the dataset and split"),
        (results_json(model="X", metrics={"giou": "73"}), "metrics.giou: expected a number or null"),
        ({"model": "X", "task": "gres"}, "protocol: missing"),
    ],
)
def test_bad_results_files_name_file_and_field(tmp_path, data, message):
    path = write(tmp_path / "r.json", data)
    with pytest.raises(InputError, match=message) as err:
        load_results(path)
    assert str(path) in str(err.value)


def test_render_table_with_results_dir_writes_reproduced_rows(tmp_path):
    write(tmp_path / "res" / "InstanceVG (Ours)" / "r.json", results_json())
    paths = render_table("gres", tmp_path / "out", ("md", "csv"), results_dir=tmp_path / "res")
    md = (tmp_path / "out" / "gres.md").read_text()
    assert "| InstanceVG (Ours) (reproduced; gres/rela v1) |  | 73.50 |" in md
    assert "| *Δ vs published InstanceVG (Ours) BEiT3-ViT-B* |  | +0.14 |" in md
    csv_text = (tmp_path / "out" / "gres.csv").read_text()
    assert (
        "Reproduced (computed by vgbench eval),delta,Δ vs published InstanceVG (Ours) BEiT3-ViT-B,,+0.14,"
        in csv_text
    )
    assert len(paths) == 2


def test_render_results_table_computed_only(tmp_path):
    files = [
        write(
            tmp_path / "a.json",
            results_json(model="empty", metrics={"giou": 10.0, "ciou": 5.0}, synthetic=True),
        ),
        write(
            tmp_path / "b.json",
            results_json(model="instancevg-tiny", metrics={"giou": 30.0, "ciou": None}, synthetic=True),
        ),
        write(
            tmp_path / "c.json",
            results_json("rec", "rec/iou", {"prec@0.5": 12.5}, targets="d:refcoco_unc/val", model="empty"),
        ),
    ]
    paths = render_results_table(
        files, tmp_path / "out", ("md", "tex", "csv", "png"), title="Synthetic benchmark"
    )
    assert sorted(p.name for p in paths) == [
        "synthetic.csv",
        "synthetic.md",
        "synthetic.png",
        "synthetic.tex",
    ]
    csv_text = (tmp_path / "out" / "synthetic.csv").read_text().splitlines()
    assert (
        csv_text[0]
        == "group,kind,Model,Protocol,refcoco_unc/val/rec:prec@0.5,grefcoco_unc/val/gres:giou,grefcoco_unc/val/gres:ciou"
    )
    assert csv_text[1:] == [
        ",computed,empty,gres/rela v1,-,10.00,5.00",
        ",computed,instancevg-tiny,gres/rela v1,-,30.00,n/a",
        ",computed,empty,rec/iou v1,12.50,-,-",
    ]
    md = (tmp_path / "out" / "synthetic.md").read_text()
    assert "**30.00**" in md
    assert "<u>10.00</u>" in md


def test_render_results_table_plots_the_chosen_metric_as_computed_points(tmp_path, monkeypatch):
    """``plot_metric`` picks the plotted column (default: the first); the points are ``computed``,
    never ``reproduced`` (they are not re-scored published rows)."""
    import leaderboards.plots as plots

    files = [
        write(tmp_path / "a.json", results_json(model="a", metrics={"giou": 10.0, "ciou": 5.0})),
        write(tmp_path / "b.json", results_json(model="b", metrics={"giou": 30.0, "ciou": None})),
    ]
    seen = []
    monkeypatch.setattr(plots, "render_png", lambda plot, path: seen.append(plot))
    render_results_table(files, tmp_path / "out", ("png",), title="t")
    render_results_table(files, tmp_path / "out", ("png",), title="t", plot_metric="ciou")
    render_results_table(files, tmp_path / "out", ("png",), title="t", plot_metric="gres:giou")
    first, ciou, giou = seen
    assert first.xlabel == "grefcoco_unc/val gIoU"
    assert first.points == (
        ("a", 10.0, "computed"),
        ("b", 30.0, "computed"),
    )
    assert ciou.xlabel == "grefcoco_unc/val cIoU"
    assert ciou.points == (("a", 5.0, "computed"),)
    assert giou.points == first.points
    with pytest.raises(InputError, match="plot_metric: 'f1_score' matches no column"):
        render_results_table(files, tmp_path / "out", ("png",), plot_metric="f1_score")


def test_computed_marks_rank_shown_values_and_never_mark_zero(tmp_path):
    """Best / second are ranked on the values as shown: 0.004 shows 0.00 and is no runner-up; ties
    at best share the bold mark; second is the best value strictly below the best."""

    def marks(values):
        files = [
            write(tmp_path / f"m{i}.json", results_json(model=f"m{i}", metrics={"giou": v}))
            for i, v in enumerate(values)
        ]
        render_results_table(files, tmp_path / "out", ("md", "tex"), title="t")
        md = (tmp_path / "out" / "synthetic.md").read_text()
        cells = [line.split(" | ")[-1].rstrip(" |") for line in md.splitlines() if line.startswith("| m")]
        return cells, (tmp_path / "out" / "synthetic.tex").read_text()

    cells, tex = marks([50.0, 0.004, 0.0])
    assert cells == ["**50.00**", "0.00", "0.00"]  # 0.00 is never underlined (was: <u>0.00</u>)
    assert r"\underline" not in tex
    assert r"\textbf{50.00}" in tex
    cells, _ = marks([0.0, 0.0])
    assert cells == ["0.00", "0.00"]  # a tie of zeros is not a best result
    cells, _ = marks([73.501, 73.499, 60.0, 60.0, 1.0])
    assert cells == ["**73.50**", "**73.50**", "<u>60.00</u>", "<u>60.00</u>", "1.00"]  # shown values tie


def test_render_results_table_takes_model_pairs_and_model_folders(tmp_path):
    a = write(tmp_path / "anon.json", results_json(metrics={"giou": 1.0}))
    b = write(tmp_path / "runs" / "baseline-x" / "r.json", results_json(metrics={"giou": 2.0}))
    render_results_table([("named", a), b], tmp_path / "out", ("csv",), title="t", name="demo")
    rows = (tmp_path / "out" / "demo.csv").read_text().splitlines()[1:]
    assert rows == [",computed,named,gres/rela v1,1.00", ",computed,baseline-x,gres/rela v1,2.00"]
    with pytest.raises(InputError, match="no results files"):
        render_results_table([], tmp_path / "out", ("csv",))


def test_demo_results_are_synthetic_by_their_benchmark_key(tmp_path):
    """The demo writes {"model": ..., "benchmark": "vgbench-synthetic", **results}."""
    res = load_results(
        write(tmp_path / "gres.json", results_json(model="InstanceVG (Ours)", benchmark="vgbench-synthetic"))
    )
    assert res.synthetic
    _, rows = gres_rows([res])
    assert rows == {}
