#!/bin/bash
# Instructions executed by whole `stigmer` processes of one install, under cachegrind:
# the figure a shared, noisy machine does not move (issue 14's side-by-side runs).
#
#   bash bench/instructions.sh VENV TAG MANIFEST UPDATED_MANIFEST
#
# Applies MANIFEST cold and again unchanged, then UPDATED_MANIFEST, through the CLI
# on a fresh data dir; then `get agent support-agent-501 -o yaml` and `get agents -A`
# on that store (MANIFEST needs 502 agents or more); then `python -c pass` (the
# interpreter alone). Prints "TAG COMMAND INSTRUCTIONS".
#
# A forked child's count under valgrind starts from its parent's count at the fork, so
# summing the parse worker's count with its parent's would count all the work before
# the fork (start-up, imports, reading the files) twice. Each command therefore runs
# once more first, on a copy of the store, with os.fork patched so that the child
# exits at once (bench/forkprobe/sitecustomize.py): that child's count is the work
# before the fork, and it is taken off each child's count of the real run.
set -euo pipefail
venv=$1 tag=$2 manifest=$(realpath "$3") updated=$(realpath "$4")
probe=$(realpath "$(dirname "$0")/forkprobe")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export STIGMER_DATA_DIR=$work/data STIGMER_USER=bench HOME=$work/home
cd "$work"  # the install's modules, not a checkout's

summary() { awk '/^summary:/ {print $2}' "$1"; }

# The counts of one valgrind run: the first process's, then each child's, in pid order.
counts() {
    local out=$1
    shift
    valgrind --tool=cachegrind --cache-sim=no --trace-children=yes \
        --cachegrind-out-file="$out.%p" "$@" > /dev/null 2>&1 ||
        echo "$tag $(basename "$out"): the command failed (its count is still printed)" >&2
    local f
    for f in $(ls "$out".* | awk -F. '{print $NF, $0}' | sort -n | cut -d' ' -f2-); do
        summary "$f"  # by the pid after the last dot: the temporary dir's name has a dot too
    done
}

count() {
    local name=$1 before=0 total=0 first=1 n
    shift
    rm -rf "$work/probe-data"
    if [ -e "$work/data" ]; then cp -a "$work/data" "$work/probe-data"; fi
    for n in $(STIGMER_DATA_DIR=$work/probe-data PYTHONPATH=$probe counts "$work/probe-$name" "$@" | tail -n +2); do
        before=$n  # the child that exited at once: the work before the fork
    done
    for n in $(counts "$work/$name" "$@"); do
        if [ $first = 1 ]; then total=$n first=0; else total=$((total + n - before)); fi
    done
    echo "$tag $name $total"
}

count cold "$venv/bin/stigmer" apply -f "$manifest"
count unchanged "$venv/bin/stigmer" apply -f "$manifest"
count update "$venv/bin/stigmer" apply -f "$updated"
count getone "$venv/bin/stigmer" get agent support-agent-501 -o yaml
count gettable "$venv/bin/stigmer" get agents -A
count python "$venv/bin/python" -c pass
