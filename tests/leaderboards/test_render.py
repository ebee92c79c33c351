"""Golden files for every table in every format; re-rendering is byte-identical.

PNG policy: the plotted data (`PlotData`) is compared with ``golden/plots.json`` always; the PNG bytes
are compared with ``golden/png_sha256.json`` only under the matplotlib version recorded there (text
rasterisation may differ between versions); rendering twice is byte-identical under any version.
Regenerate after an intended change with ``VGBENCH_UPDATE_GOLDEN=1 pytest tests/leaderboards``.
"""

import hashlib
import json
import os
from pathlib import Path

import pytest

from leaderboards import build_table, list_tables, render_table

GOLDEN = Path(__file__).resolve().parent / "golden"
UPDATE = os.environ.get("VGBENCH_UPDATE_GOLDEN") == "1"
TABLES = list_tables()


def test_all_issue_tables_exist():
    assert set(TABLES) == {
        "rec", "res", "gres", "refzom", "rrefcoco", "grec", "ablations",
        "refvlm-rec", "refvlm-res", "mlcd-seg", "pissi",
    }  # fmt: skip


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    out = tmp_path_factory.mktemp("tables")
    paths = render_table("all", out, ("md", "tex", "csv", "png"))
    return out, paths


@pytest.mark.parametrize("name", TABLES)
def test_text_formats_match_golden(rendered, name):
    _out, paths = rendered
    files = sorted(
        p
        for p in paths
        if p.suffix in (".md", ".tex", ".csv") and (p.stem == name or p.stem.startswith(f"{name}-table"))
    )
    assert {p.suffix for p in files} == {".md", ".tex", ".csv"}
    for p in files:
        golden = GOLDEN / p.name
        if UPDATE:
            golden.write_bytes(p.read_bytes())
        assert golden.is_file(), f"no golden file {golden.name}; run with VGBENCH_UPDATE_GOLDEN=1"
        assert p.read_bytes() == golden.read_bytes(), f"{p.name} differs from its golden file"


def test_no_stale_golden_files(rendered):
    _, paths = rendered
    names = {p.name for p in paths if p.suffix != ".png"} | {"plots.json", "png_sha256.json"}
    assert {p.name for p in GOLDEN.iterdir()} == names


def test_rerendering_is_byte_identical(rendered, tmp_path):
    _out, paths = rendered
    again = render_table("all", tmp_path, ("md", "tex", "csv", "png"))
    assert [p.name for p in again] == [p.name for p in paths]
    for a, b in zip(paths, again):
        assert a.read_bytes() == b.read_bytes(), a.name


def test_plot_data_matches_golden():
    data = {}
    for name in TABLES:
        _, tables = build_table(name)
        for t in tables:
            if t.plot is not None:
                data[f"{name}/{t.id}"] = {
                    "title": t.plot.title,
                    "xlabel": t.plot.xlabel,
                    "points": [list(p) for p in t.plot.points],
                }
            if t.year_plot is not None:
                y = t.year_plot
                data[f"{name}/{t.id}/by-year"] = {
                    "title": y.title,
                    "ylabel": y.ylabel,
                    "categories": list(y.categories),
                    "points": [list(p) for p in y.points],
                    "left_out": [list(p) for p in y.left_out],
                }
    golden = GOLDEN / "plots.json"
    if UPDATE:
        golden.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    assert data == json.loads(golden.read_text(encoding="utf-8"))
    assert len(data) == 11 + 9  # a plot per table (ablations: Table 7); 9 have >= 3 dated rows


def test_png_files_are_pngs_and_match_golden_hash_under_the_recorded_matplotlib(rendered):
    import matplotlib

    _, paths = rendered
    pngs = [p for p in paths if p.suffix == ".png"]
    assert len(pngs) == 20
    hashes = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in pngs}
    for p in pngs:
        head = p.read_bytes()[:32]
        assert head[:8] == b"\x89PNG\r\n\x1a\n"
        assert b"Software" not in p.read_bytes()  # no version string: byte-stable metadata
    golden = GOLDEN / "png_sha256.json"
    if UPDATE:
        golden.write_text(
            json.dumps({"matplotlib": matplotlib.__version__, "sha256": hashes}, indent=1) + "\n"
        )
    recorded = json.loads(golden.read_text())
    assert set(recorded["sha256"]) == set(hashes)
    if recorded["matplotlib"] != matplotlib.__version__:
        pytest.skip(
            f"PNG hashes recorded under matplotlib {recorded['matplotlib']}, running {matplotlib.__version__}"
        )
    assert hashes == recorded["sha256"]


def test_best_is_bold_and_second_underlined_per_column():
    _, (t,) = build_table("gres")
    col = t.header.leaf_keys.index("grefcoco_unc/val/giou")
    marks = {r.labels[0]: r.cells[col].mark for r in t.rows if r.kind == "published"}
    assert marks["DeRIS"] == "best"
    assert marks["InstanceVG (Ours)"] == "second"
    assert sum(m == "best" for m in marks.values()) == 1
    _, (rec,) = build_table("rec")
    time_col = rec.header.leaf_keys.index("time_ms")
    times = {r.labels[0] + r.labels[1]: r.cells[time_col] for r in rec.rows if r.kind == "published"}
    assert times["SeqTRDarkNet-53"].mark == "best"  # latency: lower is better
    assert times["SimVG-BBEiT3-ViT-B"].mark == "second"
    assert times["MDETRResNet-101"].text == "108"
    assert times["UniTABResNet-101"].text == "-"


def test_latex_has_booktabs_multicolumn_and_marks():
    _, tables = build_table("rec")
    from leaderboards.render_tex import render_latex

    tex = render_latex("t", tables)
    assert r"\toprule" in tex
    assert r"\midrule" in tex
    assert r"\bottomrule" in tex
    assert r"\multicolumn{3}{c}{RefCOCO}" in tex
    assert r"\cmidrule(lr){4-6}" in tex
    assert r"\textbf{94.42}" in tex
    assert r"\underline{93.21}" in tex
    assert "✓" not in tex
    assert r"\checkmark{}" in tex


SEED_PAPER = Path(__file__).resolve().parents[1] / "data" / "seeds" / "instancevg_paper.txt"


@pytest.mark.skipif(not SEED_PAPER.is_file(), reason="seed paper text not available")
def test_computed_second_marks_agree_with_the_underlines_printed_in_tables_1_to_6():
    """The extracted text keeps the paper's underlines (<u>..</u>, second best); every underlined
    value must be marked second here, except where it ties the best value (then both are best)."""
    import re

    text = SEED_PAPER.read_text(encoding="utf-8")
    checked = 0
    for name, num in (("rec", 1), ("res", 2), ("gres", 3), ("refzom", 4), ("rrefcoco", 5), ("grec", 6)):
        region = text[
            text.index(f"TABLE {num}\n") if f"TABLE {num}\n" in text else text.index(f"TABLE {num} ") :
        ]
        region = region[: re.search(r"\nTABLE \d+", region[5:]).start() + 5]
        _, (table,) = build_table(name)
        for line in region.splitlines():
            cells = line.split("\t")
            if not any("<u>" in c for c in cells):
                continue
            model = re.sub(r"\s*\[\d+\]$", "", cells[0])
            rows = [
                r
                for r in table.rows
                if r.kind == "published" and r.labels[0] == model and all(x in line for x in r.labels[1:2])
            ]
            assert rows, line
            for cell in cells:
                m = re.fullmatch(r"<u>(.*)</u>", cell.strip())
                if m:
                    marks = {c.mark for r in rows for c in r.cells if c.text == m.group(1)}
                    assert marks & {"second", "best"}, (name, model, m.group(1), marks)
                    if "second" not in marks:  # only a tie with the best value may differ
                        col = next(i for r in rows for i, c in enumerate(r.cells) if c.text == m.group(1))
                        best = [
                            r.cells[col].text
                            for r in table.rows
                            if r.kind == "published" and r.cells[col].mark == "best"
                        ]
                        assert m.group(1) in best, (name, model, m.group(1))
                    checked += 1
    assert checked == 23  # every underline printed in Tables 1-6


@pytest.mark.parametrize("path", sorted(GOLDEN.glob("*.tex")), ids=lambda p: p.name)
def test_latex_is_well_formed(path):
    """No LaTeX engine here: check braces balance and every body row has the tabular's column count."""
    import re

    text = path.read_text(encoding="utf-8")
    depth = 0
    for ch in re.sub(r"\\[{}]", "", text):
        depth += (ch == "{") - (ch == "}")
        assert depth >= 0
    assert depth == 0
    for block in text.split(r"\begin{tabular}")[1:]:
        spec = re.match(r"\{([lc]+)\}", block).group(1)
        body = block.split(r"\end{tabular}")[0]
        for line in body.splitlines():
            if line.endswith(r"\\"):
                cols = sum(int(n) for n in re.findall(r"\\multicolumn\{(\d+)\}", line)) + line.count("&") + 1
                cols -= len(re.findall(r"\\multicolumn", line))
                assert cols == len(spec), line


def test_year_plot_has_only_years_and_states_the_rows_left_out():
    from leaderboards.years import SOURCE_CATEGORY, UNKNOWN_CATEGORY

    _, (t,) = build_table("gres")
    y = t.year_plot
    assert y.categories == ("2018", "2021", "2022", "2023", "2024", "2025")  # real years only
    by_label = {label: cat for cat, _, label in y.points}
    assert by_label["MattNet"] == "2018"  # bibliography: Yu et al., CVPR 2018
    left_out = dict(y.left_out)
    assert left_out["InstanceVG (Ours)"] == SOURCE_CATEGORY  # the paper does not print its own year
    assert left_out["PropVG"] == UNKNOWN_CATEGORY  # its reference entry is wrong in the source
    assert not set(left_out) & set(by_label)
    assert len(y.points) + len(y.left_out) == 12  # every published row of the column: plotted or counted
    _, (p,) = build_table("pissi")
    assert {label: cat for cat, _, label in p.year_plot.points}["Word2Pix"] == "2022"  # venue TNNLS’22
    _, (m,) = build_table("mlcd-seg")
    assert m.year_plot is None  # no dated rows
    _, (r,) = build_table("rec")
    labels = [label for _, _, label in r.year_plot.points]
    assert "PolyFormer Swin-B" in labels
    assert "PolyFormer Swin-L" in labels


def _extents(fig, artists):
    renderer = fig.canvas.get_renderer()
    return [a.get_window_extent(renderer) for a in artists]


def _inside(fig, box):
    return box.x0 >= 0 and box.y0 >= 0 and box.x1 <= fig.bbox.width and box.y1 <= fig.bbox.height


@pytest.mark.parametrize("name", ["gres", "rec", "pissi"])
def test_year_plot_labels_every_point_without_overlaps_and_footnotes_the_left_out(name):
    from matplotlib.text import Annotation, Text

    from leaderboards.plots import year_figure

    _, (t,) = build_table(name)
    fig = year_figure(t.year_plot)
    (ax,) = fig.axes
    labels = [c for c in ax.get_children() if isinstance(c, Annotation)]
    assert len(labels) == len(t.year_plot.points)  # every point named
    assert sorted(a.get_text() for a in labels) == sorted(
        lbl[:23] + "…" if len(lbl) > 24 else lbl for _, _, lbl in t.year_plot.points
    )
    renderer = fig.canvas.get_renderer()
    for a in labels:
        a.update_positions(renderer)
    boxes = [Text.get_window_extent(a, renderer) for a in labels]  # the text, not its leader line
    assert all(_inside(fig, b) for b in boxes)
    overlaps = [(i, j) for i in range(len(boxes)) for j in range(i) if boxes[i].overlaps(boxes[j])]
    assert overlaps == []
    assert [tick.get_text() for tick in ax.get_xticklabels()] == list(t.year_plot.categories)
    (note,) = fig.texts
    assert (
        note.get_text()
        .replace("\n", " ")
        .startswith(
            f"Not plotted (no year): {len(t.year_plot.left_out)} of "
            f"{len(t.year_plot.points) + len(t.year_plot.left_out)} rows"
        )
    )
    assert _inside(fig, _extents(fig, [note])[0])
    assert _inside(fig, _extents(fig, [ax.title])[0])
    assert not _extents(fig, [note])[0].overlaps(ax.get_tightbbox(fig.canvas.get_renderer()))


def test_long_titles_are_wrapped_inside_the_figure():
    """The dot plot's title (the demo's is long, next to long row labels) is never clipped."""
    from leaderboards.build import PlotData
    from leaderboards.plots import dot_figure

    title = "vgbench synthetic benchmark (vgbench demo; not comparable with published numbers): gres " * 2
    points = (("a model with a rather long name for its row label", 30.0, "computed"), ("b", 0.0, "computed"))
    fig = dot_figure(PlotData(title=title.strip(), xlabel="x", points=points))
    (ax,) = fig.axes
    assert ax.title.get_text().count("\n") >= 1
    assert ax.title.get_text().replace("\n", " ") == title.strip()  # wrapped, not cut
    assert _inside(fig, _extents(fig, [ax.title])[0])
    (legend,) = fig.legends  # computed points are named as such, not as reproduced rows
    assert [t.get_text() for t in legend.get_texts()] == ["computed (vgbench eval)"]
    short = dot_figure(PlotData(title="short", xlabel="x", points=points[:1]))
    assert short.axes[0].title.get_text() == "short"


def test_every_published_number_is_shown_in_some_table():
    """No silent drops: each row of published.csv lands in a cell of a table spec's part."""
    from leaderboards import load_published

    shown = set()
    for name in TABLES:
        for part in build_table(name)[0].parts:
            shown |= {(part.source, part.table, c.dataset, c.split, c.metric) for c in part.columns}
    missing = [
        r.line for r in load_published() if (r.source, r.table, r.dataset, r.split, r.metric) not in shown
    ]
    assert missing == []
