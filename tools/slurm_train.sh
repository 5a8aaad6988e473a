#!/usr/bin/env bash
# bash tools/slurm_train.sh PARTITION JOB_NAME CONFIG WORK_DIR [train.py args...]
# An interactive run (srun).  SIGNAL_LEAD seconds (default 180) before the
# time limit slurm sends the tasks SIGUSR1: train.py then finishes its
# iteration, writes WORK_DIR/preempted_iter_<N>.pth and exits with 75; run
# this again with --resume to continue.  To have slurm requeue and resume
# the run by itself, submit tools/slurm_sbatch.sh instead.
set -x
PARTITION=$1
JOB_NAME=$2
CONFIG=$3
WORK_DIR=$4
GPUS=${GPUS:-8}
GPUS_PER_NODE=${GPUS_PER_NODE:-8}
CPUS_PER_TASK=${CPUS_PER_TASK:-5}
SIGNAL_LEAD=${SIGNAL_LEAD:-180}
SRUN_ARGS=${SRUN_ARGS:-""}
PY_ARGS=${@:5}

PYTHONPATH="$(dirname $0)/..":$PYTHONPATH \
srun -p ${PARTITION} \
    --job-name=${JOB_NAME} \
    --gres=gpu:${GPUS_PER_NODE} \
    --ntasks=${GPUS} \
    --ntasks-per-node=${GPUS_PER_NODE} \
    --cpus-per-task=${CPUS_PER_TASK} \
    --kill-on-bad-exit=1 \
    --signal=USR1@${SIGNAL_LEAD} \
    ${SRUN_ARGS} \
    python -u $(dirname "$0")/train.py ${CONFIG} --work-dir=${WORK_DIR} \
    --launcher="slurm" ${PY_ARGS}
