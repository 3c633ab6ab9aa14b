#!/usr/bin/env bash
# One singlehdr worker per GPU on one multi-GPU machine: GPU g takes chunk g+1
# of N (N = the number of GPUs), all chunks share one shot lock.
#
#   docs/farm/multi_gpu.sh 'plates/sh010/plate.####.jpg' 'hdr/sh010/plate.####.exr' 1001-1100 [more singlehdr flags]
#
# Exit status: 0 when every chunk finished, else the largest chunk exit status
# (3 = some frames failed: run the script again, finished frames are kept).
set -u
plate=$1; out=$2; frames=$3; shift 3
singlehdr=${SINGLEHDR:-singlehdr}
ngpu=${NGPU:-$(nvidia-smi --list-gpus 2>/dev/null | wc -l)}
if [ "$ngpu" -lt 1 ]; then echo "error: no GPU found (set NGPU to override)" >&2; exit 2; fi
mkdir -p "$(dirname "$out")"
# 1. the shot lock, once (the chunks below only read it)
"$singlehdr" reconstruct "$plate" -o "$out" --frames "$frames" --lock-only "$@" || exit $?
# 2. one process per GPU, each pinned with --device cuda:N
pids=()
for g in $(seq 0 $((ngpu - 1))); do
    "$singlehdr" reconstruct "$plate" -o "$out" --frames "$frames" --chunk "$((g + 1))/$ngpu" \
        --device "cuda:$g" --skip-existing -q "$@" > "$(dirname "$out")/chunk_$((g + 1))_of_$ngpu.log" 2>&1 &
    pids+=($!)
done
status=0
for p in "${pids[@]}"; do
    wait "$p"; rc=$?
    [ "$rc" -gt "$status" ] && status=$rc
done
exit "$status"
