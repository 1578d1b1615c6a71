"""CSIC 2010 lives in the tree, gzip-compressed, and ``make eval`` reads it from there."""

from __future__ import annotations

import gzip
from pathlib import Path

from model.evaluate import CSIC_FOLDER, csic_file, load_csic

DATA = Path(__file__).resolve().parents[1] / "data" / "csic2010"


def test_the_data_set_ships_compressed_with_its_readme_and_licence_note() -> None:
    # GIVEN the tree's data folder THEN it holds the two files compressed, and says where they come from
    assert sorted(path.name for path in DATA.iterdir()) == ["README.md", "anomalous.txt.gz", "normal.txt.gz"]
    readme = (DATA / "README.md").read_text()
    assert "## Source" in readme
    assert "## Licence note" in readme
    # AND make eval reads this folder unless told otherwise
    assert csic_file(CSIC_FOLDER, "normal.txt") == DATA / "normal.txt.gz"


def test_every_line_of_the_compressed_files_becomes_an_event() -> None:
    # WHEN the evaluation loads the shipped data set
    normal, anomalous = load_csic(DATA)
    # THEN every line is an event (the counts the README states), with its method and resource
    assert (len(normal), len(anomalous)) == (36_000, 25_065)
    assert normal[0]["resource"] == "/tienda1/index.jsp"
    assert normal[0]["properties"] == {"method": "get"}
    assert all(event["resource"].startswith("/") for event in anomalous)


def test_plain_files_read_the_same_as_compressed_ones(tmp_path: Path) -> None:
    # GIVEN the first lines of both files, uncompressed (as VEDETTE_CSIC2010 may point at)
    for name in ("normal.txt", "anomalous.txt"):
        with gzip.open(DATA / f"{name}.gz", "rb") as packed:
            head = b"".join(line for _, line in zip(range(200), packed, strict=False))
        (tmp_path / name).write_bytes(head)
    # WHEN both folders are loaded THEN the plain folder gives the first events of the compressed one
    plain_normal, plain_anomalous = load_csic(tmp_path)
    normal, anomalous = load_csic(DATA)
    assert (plain_normal, plain_anomalous) == (normal[:200], anomalous[:200])
