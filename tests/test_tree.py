"""The repository stands alone: no file names a path of one machine or a folder beside the checkout."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# A folder beside the checkout, or the home or work folders of one machine.
OUTSIDE_THE_TREE = re.compile(rb"\.\./shared\b|(?<![\w.])/(?:work|home|Users|root|mnt)/|[A-Za-z]:\\\\Users\\\\")


def tracked_files() -> list[Path]:
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout
    return [ROOT / name for name in listed.decode().split("\0") if name and (ROOT / name).is_file()]


def paths_outside_the_tree(root: Path, files: list[Path]) -> list[str]:
    return [
        f"{path.relative_to(root)}:{number}: {line.decode(errors='replace').strip()[:120]}"
        for path in files
        for number, line in enumerate(path.read_bytes().splitlines(), 1)
        if OUTSIDE_THE_TREE.search(line)
    ]


def test_no_file_in_the_tree_names_a_path_outside_it() -> None:
    files = tracked_files()
    assert len(files) > 100  # the listing found the tree
    assert paths_outside_the_tree(ROOT, files) == []


def test_the_check_finds_such_paths(tmp_path: Path) -> None:
    # GIVEN files that name a folder beside the checkout and one machine's absolute path (written
    # in pieces here, so that this file passes its own check)
    bad = [tmp_path / "a.py", tmp_path / "b.md", tmp_path / "c.py"]
    bad[0].write_text('DATA = Path(__file__).parents[1] / "..' + '/shared/data"\n')
    bad[1].write_text("python -m traffic import /" + "work/shared/data/csic2010\n")
    bad[2].write_text('ROOT = "/' + 'home/alice/vedette"\n')
    good = tmp_path / "d.py"
    good.write_text('DATA = ROOT / "data/csic2010"  # and a URL: https://example.com/work/x\n')
    # THEN each bad file is reported, the good one is not
    files = [*bad, good]
    reported = [line.split(":")[0] for line in paths_outside_the_tree(tmp_path, files)]
    assert reported == ["a.py", "b.md", "c.py"]
