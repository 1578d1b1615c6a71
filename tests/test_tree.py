"""The repository stands alone: no file names a path of one machine or a folder beside the checkout,
and no code edits sys.path (its packages are installed: pyproject.toml)."""

from __future__ import annotations

import ast
import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# A folder beside the checkout, or the home or work folders of one machine.
OUTSIDE_THE_TREE = re.compile(rb"\.\./shared\b|(?<![\w.])/(?:work|home|Users|root|mnt)/|[A-Za-z]:\\\\Users\\\\")
# The stand-in for SageMaker's container puts the artifact's code/ on sys.path, as the container does.
SYS_PATH_EDITS_ALLOWED = frozenset({"model/server.py"})
# The methods of sys.path that change it (site.addsitedir changes it too).
SYS_PATH_METHODS = frozenset({"append", "extend", "insert", "remove", "pop", "clear", "reverse", "sort"})


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


def is_name(node: ast.expr, module: str, attribute: str) -> bool:
    """``module.attribute``, or an item or slice of it."""
    if isinstance(node, ast.Subscript):
        node = node.value
    return (
        isinstance(node, ast.Attribute)
        and node.attr == attribute
        and isinstance(node.value, ast.Name)
        and node.value.id == module
    )


def edits_sys_path(node: ast.AST) -> bool:
    """Whether the statement or call changes the import path."""
    if isinstance(node, ast.Call):
        return (
            isinstance(node.func, ast.Attribute)
            and node.func.attr in SYS_PATH_METHODS
            and is_name(node.func.value, "sys", "path")
        ) or is_name(node.func, "site", "addsitedir")
    if isinstance(node, ast.Assign | ast.Delete):
        return any(is_name(target, "sys", "path") for target in node.targets)
    if isinstance(node, ast.AugAssign | ast.AnnAssign):
        return is_name(node.target, "sys", "path")
    return False


def sys_path_edits(root: Path, files: list[Path]) -> list[str]:
    """Each statement of the Python files that changes the import path, as ``file:line: code``."""
    found = []
    for path in (path for path in files if path.suffix == ".py"):
        source = path.read_text()
        for node in ast.walk(ast.parse(source, str(path))):
            if edits_sys_path(node):
                code = ast.get_source_segment(source, node)
                found.append(f"{path.relative_to(root).as_posix()}:{getattr(node, 'lineno', 0)}: {code}")
    return found


def test_no_code_edits_sys_path_but_the_container_stand_in() -> None:
    files = [path for path in tracked_files() if path.relative_to(ROOT).as_posix() not in SYS_PATH_EDITS_ALLOWED]
    assert len(files) > 100
    assert sys_path_edits(ROOT, files) == []


def test_the_check_finds_sys_path_edits(tmp_path: Path) -> None:
    # GIVEN modules that change the import path in each way Python allows
    edits = {
        "insert.py": "import sys\nsys.path.insert(0, 'functions')\n",
        "append.py": "import sys\nif True:\n    sys.path.append('functions')\n",
        "extend.py": "import sys\nsys.path.extend(['.'])\n",
        "assign.py": "import sys\nsys.path = ['.', *sys.path]\n",
        "item.py": "import sys\nsys.path[0] = '.'\n",
        "augment.py": "import sys\nsys.path += ['.']\n",
        "delete.py": "import sys\ndel sys.path[0]\n",
        "site.py": "import site\nsite.addsitedir('functions')\n",
    }
    for name, source in edits.items():
        (tmp_path / name).write_text(source)
    # AND modules that only read it, or change another list
    (tmp_path / "reads.py").write_text("import sys\nprint(sys.path[0], list(sys.path))\nsys.meta_path.append(None)\n")
    (tmp_path / "script.py").write_text("SCRIPT = 'import sys; sys.path.insert(0, \\'.\\')'\n")
    # WHEN the modules are read
    found = sys_path_edits(tmp_path, sorted(tmp_path.iterdir()))
    # THEN each edit is reported with its line, and nothing else
    assert sorted(line.split(":")[0] for line in found) == sorted(edits)
    assert "append.py:3: sys.path.append('functions')" in found
