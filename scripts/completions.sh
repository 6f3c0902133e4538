#!/usr/bin/env bash
# Regenerates the shipped completion scripts in completions/ from the binary.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build -q
bin=target/debug/daskctl
"$bin" completions bash > completions/daskctl.bash
"$bin" completions zsh > completions/_daskctl
"$bin" completions fish > completions/daskctl.fish
"$bin" completions powershell > completions/_daskctl.ps1
"$bin" completions elvish > completions/daskctl.elv
echo "completions/ regenerated"
