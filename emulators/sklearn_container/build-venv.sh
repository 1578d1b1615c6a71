#!/bin/sh
# Builds the virtualenv of the scikit-learn container's serving stack (Python 3.10, requirements.txt
# beside this file) at $1, or, where it cannot, writes why to $1.unavailable and exits 0: the tests
# and the demo then serve the artifact with model/server.py and say so.
# The interpreter: $PYTHON310 if set, else the first working python3.10 on PATH or under pyenv.
set -u
venv=$1
here=$(dirname "$0")
unavailable="$venv.unavailable"

give_up() {
    echo "$1" > "$unavailable"
    echo "note: the container's serving stack is not installed: $1; model/server.py serves the artifact instead" >&2
    exit 0
}

python=""
for candidate in ${PYTHON310:-} python3.10 "${PYENV_ROOT:-$HOME/.pyenv}"/versions/3.10.*/bin/python3.10 \
        /usr/local/bin/python3.10 /usr/bin/python3.10; do
    # A pyenv shim exists on PATH even when it cannot run 3.10: ask each candidate its version.
    if version=$("$candidate" -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null) \
            && [ "$version" = "3.10" ]; then
        python=$candidate
        break
    fi
done
[ -n "$python" ] || give_up "no Python 3.10 interpreter found (set PYTHON310 to one)"

rm -rf "$venv"
"$python" -m venv "$venv" || give_up "$python -m venv failed"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$here/requirements.txt" \
    || give_up "pip could not install $here/requirements.txt with $python"
rm -f "$unavailable"
touch "$venv/.installed"
