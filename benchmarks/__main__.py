"""Run every benchmark (benchmarks/bench_*.py), each in its own process, in name order.

Each prints one JSON object per line with a ``bench`` name, its figures, and the baseline it is
compared against in the same run. A benchmark that fails prints an ``error`` line instead.
"""

from __future__ import annotations

import json
import pathlib
import subprocess
import sys


def main() -> int:
    folder = pathlib.Path(__file__).parent
    names = sorted(path.stem for path in folder.glob("bench_*.py"))
    selected = [name for name in names if not sys.argv[1:] or any(arg in name for arg in sys.argv[1:])]
    failed = 0
    for name in selected:
        result = subprocess.run([sys.executable, "-m", f"benchmarks.{name}"], stdout=subprocess.PIPE, text=True)
        sys.stdout.write(result.stdout)
        sys.stdout.flush()
        if result.returncode != 0:
            failed += 1
            print(json.dumps({"bench": name.removeprefix("bench_"), "error": f"exit code {result.returncode}"}))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
