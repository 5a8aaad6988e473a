#!/usr/bin/env bash
# bash tools/slurm_train.sh PARTITION JOB_NAME CONFIG WORK_DIR [train.py args...]
# An interactive run (srun).  SIGNAL_LEAD seconds (default 180) before the
# time limit slurm sends the tasks SIGUSR1: train.py then finishes its
# iteration, writes WORK_DIR/preempted_iter_<N>.pth and exits with 75; run
# this again with --resume to continue.  To have slurm requeue and resume
# the run by itself, submit tools/slurm_sbatch.sh instead.
# Every argument is passed on as given (paths and --cfg-options values may
# hold spaces); SRUN_ARGS is split on spaces into srun options.
set -x
PARTITION=$1
JOB_NAME=$2
CONFIG=$3
WORK_DIR=$4
shift 4
GPUS=${GPUS:-8}
GPUS_PER_NODE=${GPUS_PER_NODE:-8}
CPUS_PER_TASK=${CPUS_PER_TASK:-5}
SIGNAL_LEAD=${SIGNAL_LEAD:-180}
PYTHON=${PYTHON:-python}
read -r -a SRUN_OPTIONS <<< "${SRUN_ARGS:-}"
TOOLS=$(dirname "$0")

PYTHONPATH="$TOOLS/..${PYTHONPATH:+:$PYTHONPATH}" \
srun -p "$PARTITION" \
    --job-name="$JOB_NAME" \
    --gres=gpu:"$GPUS_PER_NODE" \
    --ntasks="$GPUS" \
    --ntasks-per-node="$GPUS_PER_NODE" \
    --cpus-per-task="$CPUS_PER_TASK" \
    --kill-on-bad-exit=1 \
    --signal=USR1@"$SIGNAL_LEAD" \
    "${SRUN_OPTIONS[@]}" \
    "$PYTHON" -u "$TOOLS/train.py" "$CONFIG" --work-dir="$WORK_DIR" \
    --launcher=slurm "$@"
