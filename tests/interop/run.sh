#!/bin/sh
# Writes a file with tapegrad and reads it back with Python + numpy.
# Usage: run.sh WRITER FILE SCRIPT. Exit code 77 (no python3 or numpy) is CTest's "skipped".
set -e
"$1" "$2"
if [ ! -x /usr/bin/python3 ]; then
  echo "no /usr/bin/python3: skipped"
  exit 77
fi
exec /usr/bin/python3 "$3" "$2"
