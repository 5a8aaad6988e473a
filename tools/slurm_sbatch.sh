#!/usr/bin/env bash
# A training job that comes back by itself after preemption or its time
# limit, resuming where it stopped:
#
#   sbatch -p PARTITION -J JOB_NAME --nodes=1 --ntasks=8 --ntasks-per-node=8 \
#       --gres=gpu:8 --cpus-per-task=5 --time=24:00:00 \
#       -o WORK_DIR/slurm-%j.out tools/slurm_sbatch.sh CONFIG WORK_DIR [args]
#
# (submit from the repository root: slurm runs a copy of this script).
# Preemption: slurm sends SIGTERM and requeues the job (--requeue below);
# train.py finishes its iteration and saves within the partition's
# GraceTime.  Time limit: SIGNAL_LEAD seconds (default 180) before it, srun
# sends the tasks SIGUSR1; train.py saves and exits with 75 ("preempted"),
# and this script requeues the job.  Every start runs train.py --resume: the
# newest complete checkpoint of WORK_DIR is continued (none: a fresh start).
# Every argument is passed on as given (paths and --cfg-options values may
# hold spaces); SRUN_ARGS is split on spaces into srun options.
#SBATCH --requeue
#SBATCH --open-mode=append
set -x
CONFIG=$1
WORK_DIR=$2
shift 2
SIGNAL_LEAD=${SIGNAL_LEAD:-180}
PYTHON=${PYTHON:-python}
read -r -a SRUN_OPTIONS <<< "${SRUN_ARGS:-}"
PREEMPTED=75  # dhkd_det.engine.hooks.preemption_hook.PREEMPTED_EXIT_CODE
REPO=${SLURM_SUBMIT_DIR:-.}

# slurm sends SIGTERM to this shell too: it must outlive the tasks' save
trap 'echo "SIGTERM: waiting for the tasks to save"' TERM
PYTHONPATH="$REPO${PYTHONPATH:+:$PYTHONPATH}" \
srun --kill-on-bad-exit=1 --signal=USR1@"$SIGNAL_LEAD" "${SRUN_OPTIONS[@]}" \
    "$PYTHON" -u "$REPO/tools/train.py" "$CONFIG" \
    --work-dir="$WORK_DIR" --launcher=slurm --resume "$@" &
SRUN_PID=$!
# `wait` returns early when a trapped signal arrives: wait until srun ends
while true; do
    wait "$SRUN_PID"
    STATUS=$?
    kill -0 "$SRUN_PID" 2>/dev/null || break
done
if [ "$STATUS" -eq "$PREEMPTED" ]; then
    scontrol requeue "$SLURM_JOB_ID"
fi
exit "$STATUS"
