#!/usr/bin/env bash
# A second Unix user for the tests that check daskctl never lists, scales or deletes another
# user's clusters (root's daskctl included): the user `daskctl-other`, and a Python with
# distributed that user can run. The project's .venv cannot serve: it is built on a Python under
# /root, which other users cannot enter; this one is made from Debian's /usr/bin/python3.
# Usage: users.sh install   (root; idempotent)
set -euo pipefail
NAME=daskctl-other
VENV=/opt/daskctl-other/venv
[ "$(id -u)" = 0 ] || { echo "users: must run as root" >&2; exit 1; }
id "$NAME" >/dev/null 2>&1 || useradd --create-home --shell /bin/sh "$NAME"
if ! "$VENV/bin/python" -c 'import distributed' 2>/dev/null; then
  PY=/usr/bin/python3
  [ -x "$PY" ] || { echo "users: no $PY (Debian's python3) to build a venv other users can run" >&2; exit 1; }
  "$PY" -c 'import venv, ensurepip' 2>/dev/null || { apt-get update -q && apt-get install -y -q --no-install-recommends python3-venv; }
  mkdir -p "$(dirname "$VENV")"
  "$PY" -m venv "$VENV"
  "$VENV/bin/pip" install -q --disable-pip-version-check 'dask[distributed]'
fi
chmod -R a+rX /opt/daskctl-other
echo "users: $NAME ($(id -u "$NAME")) with $("$VENV/bin/python" -c 'import distributed; print("distributed", distributed.__version__)')" >&2
