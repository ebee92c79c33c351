"""The published data: it validates, the checker catches each defect class, and every InstanceVG
Table 1-6 number is found in the corresponding table of the paper text, in its printed row and column."""

import csv
import re
import shutil
from pathlib import Path

import pytest

from leaderboards import check_published, load_bibliography, load_published, load_spec
from leaderboards.schema import BIBLIOGRAPHY_CSV, COLUMNS, PUBLISHED_CSV

SEEDS = Path(__file__).resolve().parents[1] / "data" / "seeds"
PAPER = SEEDS / "instancevg_paper.txt"
TABLES_1_6 = {
    "Table 1": "rec",
    "Table 2": "res",
    "Table 3": "gres",
    "Table 4": "refzom",
    "Table 5": "rrefcoco",
    "Table 6": "grec",
}


def test_packaged_data_is_valid():
    assert check_published() == []
    rows = load_published()
    assert len(rows) > 1000
    assert {r.source for r in rows} == {
        "instancevg_paper",
        "ref_vlm_paper",
        "mlcd_seg_readme",
        "pissi_ssrvg_readme",
    }
    bib = load_bibliography()
    assert all(r.paper_key in bib for r in rows if r.paper_key)


def _write(tmp_path, rows):
    path = tmp_path / "published.csv"
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, COLUMNS, lineterminator="\n")
        w.writeheader()
        w.writerows(rows)
    return path


def _base_rows():
    with open(PUBLISHED_CSV, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))[:5]


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda r: r.update(metric="gIoU"), "metric: unknown metric 'gIoU'"),
        (lambda r: r.update(value="73,36"), "value: not a plain decimal number"),
        (lambda r: r.update(value=""), "value: empty"),
        (lambda r: r.update(source=""), "source: empty"),
        (lambda r: r.update(source="blog_post"), "source: unknown source"),
        (lambda r: r.update(dataset="refcoco"), "dataset: unknown dataset"),
        (lambda r: r.update(split="validation"), "split: unknown split"),
        (lambda r: r.update(paper_key="nobody2099"), "paper_key: 'nobody2099' is not in"),
        (lambda r: r.update(metric="time_ms"), "takes no dataset or split"),
    ],
)
def test_check_reports_each_defect_with_file_line_field(tmp_path, change, expected):
    rows = _base_rows()
    change(rows[2])
    path = _write(tmp_path, rows)
    problems = check_published(path)
    assert problems, "the defect was not reported"
    assert all(p.startswith(f"{path}:4: ") for p in problems), problems
    assert any(expected in p for p in problems), problems


def test_check_reports_duplicates(tmp_path):
    rows = _base_rows()
    rows.append(dict(rows[1], value="1.00"))
    problems = check_published(_write(tmp_path, rows))
    assert problems == [
        f"{tmp_path / 'published.csv'}:7: value: duplicate of line 3 (same source, table, row and column)"
    ]


def test_check_reports_bad_bibliography(tmp_path):
    bib = tmp_path / "bib.csv"
    shutil.copy(BIBLIOGRAPHY_CSV, bib)
    lines = bib.read_text(encoding="utf-8").splitlines()
    bib.write_text("\n".join([*lines, lines[1]]) + "\n", encoding="utf-8")
    problems = check_published(bibliography=bib)
    assert len(problems) == 2
    assert all("duplicate key" in p for p in problems)


def test_check_rejects_a_wrong_header(tmp_path):
    from evaluators.errors import InputError

    path = tmp_path / "bad.csv"
    path.write_text("model,value\nX,1\n", encoding="utf-8")
    with pytest.raises(InputError, match="header: expected columns"):
        check_published(path)


def _regions(text: str) -> dict[str, list[str]]:
    """Table k -> the lines between its 'TABLE k' caption and the next caption or section heading."""
    lines = text.splitlines()
    starts = [(i, m.group(1)) for i, line in enumerate(lines) if (m := re.match(r"^TABLE (\d+)\b", line))]
    out = {}
    for i, num in starts:
        end = next(
            (j for j in range(i + 1, len(lines)) if re.match(r"^(TABLE \d+|\d+(\.\d+)* [A-Z])", lines[j])),
            len(lines),
        )
        out[f"Table {num}"] = lines[i:end]
    return out


def _cells(line: str) -> list[str]:
    cells = [re.sub(r"^<u>(.*)</u>$", r"\1", c.strip()) for c in line.split("\t")]
    while cells and not cells[-1]:
        cells.pop()
    return cells


@pytest.mark.skipif(not PAPER.is_file(), reason="seed paper text not available")
def test_every_instancevg_table_1_to_6_number_occurs_in_its_table_text():
    regions = _regions(PAPER.read_text(encoding="utf-8"))
    rows = [r for r in load_published() if r.source == "instancevg_paper" and r.table in TABLES_1_6]
    assert len(rows) > 500
    missing = []
    for r in rows:
        tokens = {c for line in regions[r.table] for c in _cells(line)}
        if r.value not in tokens:
            missing.append(f"line {r.line}: {r.table} {r.model} {r.dataset}/{r.split}/{r.metric} = {r.value}")
    assert missing == []


@pytest.mark.skipif(not PAPER.is_file(), reason="seed paper text not available")
def test_every_instancevg_table_1_to_6_row_matches_its_printed_row_cell_by_cell():
    """Stronger: each transcribed row equals the trailing cells of a printed line of that table that
    starts with the model (and names the backbone), in the spec's column order, '-' where omitted."""
    regions = _regions(PAPER.read_text(encoding="utf-8"))
    published = load_published()
    checked = 0
    for table, name in TABLES_1_6.items():
        part = load_spec(name).parts[0]
        rows: dict[tuple, dict] = {}
        for r in published:
            if r.source == "instancevg_paper" and r.table == table:
                rows.setdefault(r.row_key, {})[(r.dataset, r.split, r.metric)] = r.value
        for (_, model, backbone, _), values in rows.items():
            expected = [values.get((c.dataset, c.split, c.metric), "-") for c in part.columns]
            assert len(values) == sum(v != "-" for v in expected), (
                f"{table} {model}: a value outside the spec"
            )
            candidates = [
                _cells(line)
                for line in regions[table]
                if re.match(re.escape(model) + r"( \[\d+\])?\t", line) and backbone in line
            ]
            assert any(c[-len(expected) :] == expected for c in candidates), (
                table,
                model,
                backbone,
                expected,
                candidates,
            )
            checked += 1
    assert checked == 18 + 19 + 12 + 8 + 9 + 7  # printed rows of Tables 1-6


def _joined_rows(text: str) -> list[str]:
    """Lines of a table, a wrapped row (a line not ending in a value) joined with the next line."""
    out, pending = [], ""
    for line in text.splitlines():
        line = pending + line
        if re.search(r"(\d|-|\|)\s*$", line) or not line.strip():
            out.append(line)
            pending = ""
        else:
            pending = line + " "
    return out + ([pending] if pending else [])


def _source_regions() -> dict[tuple[str, str], list[str]]:
    """(source, table) -> the row lines of that table in its seed document."""
    out = {}
    for table, lines in _regions(PAPER.read_text(encoding="utf-8")).items():
        out[("instancevg_paper", table)] = lines
    rv = (SEEDS / "ref_vlm_paper.txt").read_text(encoding="utf-8")
    for name, nxt in (("VII", "VIII"), ("X", "XI")):
        out[("ref_vlm_paper", f"Table {name}")] = _joined_rows(
            rv[rv.index(f"TABLE {name}:") : rv.index(f"TABLE {nxt}:")]
        )
    out[("mlcd_seg_readme", "RefCOCO Segmentation Evaluation")] = (
        (SEEDS / "mlcd_seg_readme.md").read_text(encoding="utf-8").splitlines()
    )
    out[("pissi_ssrvg_readme", "RefCOCO / RefCOCO+ / RefCOCOg")] = (
        (SEEDS / "pissi_ssrvg_readme.md").read_text(encoding="utf-8").splitlines()
    )
    return out


@pytest.mark.skipif(not PAPER.is_file(), reason="seed texts not available")
def test_every_published_number_of_every_source_occurs_in_its_table_text():
    """All sources and tables (7-17, REF-VLM, READMEs too): the printed form of each value (the notes
    say where it differs, e.g. a decimal comma) occurs as a whole token on a line of the table's text
    that names the row's model (ablation rows and the MLCD table, whose models are columns, excepted)."""
    regions = _source_regions()
    missing = []
    for r in load_published():
        printed = re.search(r"printed as '?([^' ;]+)'?", r.notes)
        token = printed.group(1) if printed else r.value
        pattern = r"(?<![\d.,])" + re.escape(token) + r"(?![\d,]|\.\d)"
        lines = [line for line in regions[(r.source, r.table)] if re.search(pattern, line)]
        if r.model != "InstanceVG" and r.source != "mlcd_seg_readme":
            lines = [line for line in lines if r.model.split(" (")[0] in line]
        if not lines:
            missing.append(f"line {r.line}: {r.source} {r.table} {r.model} {r.metric} = {token}")
    assert missing == []
