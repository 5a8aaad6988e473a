#!/usr/bin/env bash
# bash tools/dist_train.sh CONFIG NUM_PROCS [train.py args...]
# On CPU (no GPU) torchrun's processes use the gloo backend automatically
# (set in the configs' env_cfg.dist_cfg.backend or via --cfg-options).
# PYTHON chooses the interpreter (default: python on PATH).
#
# Exit status: train.py's; 75 when the run was preempted (SIGTERM / SIGUSR1:
# every process saved and stopped), although torchrun itself then reports a
# failure (it ends the other processes once one has ended), so a wrapper
# that requeues on 75 does.
CONFIG=$1
GPUS=$2
shift 2
NNODES=${NNODES:-1}
NODE_RANK=${NODE_RANK:-0}
PORT=${PORT:-29500}
MASTER_ADDR=${MASTER_ADDR:-"127.0.0.1"}
PYTHON=${PYTHON:-python}
PREEMPTED=75  # dhkd_det.engine.hooks.preemption_hook.PREEMPTED_EXIT_CODE
TOOLS=$(dirname "$0")

# the processes of a preempted run write the checkpoint's path here
# (PreemptionHook, DHKD_PREEMPTED_FILE)
DHKD_PREEMPTED_FILE=$(mktemp "${TMPDIR:-/tmp}/dhkd_preempted.XXXXXX") || exit 1
export DHKD_PREEMPTED_FILE
trap 'rm -f "$DHKD_PREEMPTED_FILE"' EXIT
# a SIGTERM to the whole job (scancel, a kill of the process group) reaches
# torchrun and its processes too: this shell waits for them to save and
# reports their status instead of ending first with 143
trap 'echo "dist_train.sh: SIGTERM: waiting for the processes to save" >&2' TERM

PYTHONPATH="$TOOLS/..${PYTHONPATH:+:$PYTHONPATH}" \
"$PYTHON" -m torch.distributed.run \
    --nnodes="$NNODES" \
    --node_rank="$NODE_RANK" \
    --master_addr="$MASTER_ADDR" \
    --nproc_per_node="$GPUS" \
    --master_port="$PORT" \
    "$TOOLS/train.py" \
    "$CONFIG" \
    --launcher pytorch "$@"
STATUS=$?
if [ "$STATUS" -ne 0 ] && [ -s "$DHKD_PREEMPTED_FILE" ]; then
    echo "dist_train.sh: preempted, saved $(cat "$DHKD_PREEMPTED_FILE");" \
        "continue with --resume (exit status $PREEMPTED)" >&2
    STATUS=$PREEMPTED
fi
exit "$STATUS"
