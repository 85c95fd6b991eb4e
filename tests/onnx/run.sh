#!/bin/sh
# Exports the model zoo with tapegrad, then checks the files with onnx, OpenCV and against
# torch.onnx.export's (tests/onnx/check_onnx.py).
# Usage: run.sh EXPORT_ZOO FIXTURE_DIR OUT_DIR CHECKER. Exit code 77 is CTest's "skipped".
set -e
"$1" "$2" "$3"
if [ ! -x /usr/bin/python3 ]; then
  echo "no /usr/bin/python3: skipped"
  exit 77
fi
exec /usr/bin/python3 "$4" "$3" "$2"
