#!/bin/bash
# Instructions executed by whole `stigmer` processes of one install, under cachegrind:
# the figure a shared, noisy machine does not move (issue 14's side-by-side runs).
#
#   bash bench/instructions.sh VENV TAG MANIFEST UPDATED_MANIFEST
#
# Applies MANIFEST cold and again unchanged, then UPDATED_MANIFEST, through the CLI
# on a fresh data dir; then `get agent support-agent-501 -o yaml` and `get agents -A`
# on that store (MANIFEST needs 502 agents or more); then `python -c pass` (the interpreter alone). Each command's
# counts include its children (the parse worker). Prints "TAG COMMAND INSTRUCTIONS".
set -euo pipefail
venv=$1 tag=$2 manifest=$(realpath "$3") updated=$(realpath "$4")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export STIGMER_DATA_DIR=$work/data STIGMER_USER=bench HOME=$work/home
cd "$work"  # the install's modules, not a checkout's

count() {
    local name=$1 total=0 n
    shift
    valgrind --tool=cachegrind --cache-sim=no --trace-children=yes \
        --cachegrind-out-file="$work/$name.%p" "$@" > /dev/null 2>&1 ||
        echo "$tag $name: the command failed (its count is still printed)" >&2
    for f in "$work/$name".*; do
        n=$(awk '/^summary:/ {print $2}' "$f")
        total=$((total + n))
    done
    echo "$tag $name $total"
}

count cold "$venv/bin/stigmer" apply -f "$manifest"
count unchanged "$venv/bin/stigmer" apply -f "$manifest"
count update "$venv/bin/stigmer" apply -f "$updated"
count getone "$venv/bin/stigmer" get agent support-agent-501 -o yaml
count gettable "$venv/bin/stigmer" get agents -A
count python "$venv/bin/python" -c pass
