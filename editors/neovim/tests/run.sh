#!/usr/bin/env bash
# Runs the Neovim plugin's end-to-end test headless against a built `tandem`:
#   editors/neovim/tests/run.sh [path/to/tandem]
# The binary: the argument, else $TANDEM_BIN, else target/debug/tandem, else target/release/tandem.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../../.." && pwd)"
bin="${1:-${TANDEM_BIN:-}}"
if [ -z "$bin" ]; then
  for candidate in "$repo/target/debug/tandem" "$repo/target/release/tandem"; do
    if [ -x "$candidate" ]; then bin="$candidate"; break; fi
  done
fi
if [ -z "$bin" ] || [ ! -x "$bin" ]; then
  echo "no tandem binary: build it with \`cargo build\`, or pass its path / set TANDEM_BIN" >&2
  exit 1
fi
bin="$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")"
nvim --version | head -1
export TANDEM_REPO="$repo" TANDEM_BIN="$bin"
# -u NONE: no user config; the test puts the plugin on the runtimepath itself.
timeout 120 nvim --headless -u NONE -i NONE -n -c "luafile $here/e2e.lua"
timeout 30 nvim --headless -u NONE -i NONE -n -c "luafile $here/missing_binary.lua"
