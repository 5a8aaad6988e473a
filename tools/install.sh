#!/usr/bin/env bash
# Installs dhkd_det and everything it needs into the active Python
# environment (a venv, a venv with --system-site-packages, or the system
# Python): torch / torchvision (an installed torch is reused), mmengine,
# mmdet 3.3.0, mmcv 2.1.0 and this package (editable).
#
# By default nothing is compiled: mmcv comes as its pure-Python package
# (mmcv-lite, the sdist built with MMCV_WITH_OPS=0) and the ops MMDetection's
# Faster R-CNN and RetinaNet use (nms, batched_nms, RoIAlign, sigmoid focal
# loss) are served by torchvision / PyTorch kernels, on CPU and CUDA, through
# dhkd_det/ops (a start-up hook, so `import mmcv.ops` works in any process).
# An mmcv with working compiled ops that is already installed is kept.
#
#   bash tools/install.sh                        # the default, minutes
#   DHKD_MMCV_OPS=compile bash tools/install.sh  # build mmcv's ops (CUDA
#       kernels for the visible GPUs where nvcc is found), 12-22 min on 2
#       cores; the validated wheel is cached, a rerun takes seconds
#   DHKD_CACHE=/path ...                         # where that wheel is cached
#
# Rerunning after a failed or interrupted run repairs the environment.
set -euo pipefail

MMCV_VERSION=2.1.0
TORCH_VERSION=2.14.1
TORCHVISION_VERSION=0.29.1
PY=${PYTHON:-python3}
REPO=$(cd "$(dirname "$0")/.." && pwd)
CACHE=${DHKD_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/dhkd_det}
MODE=${DHKD_MMCV_OPS:-auto}
PIP="$PY -m pip install -q --no-input --disable-pip-version-check"
START=$(date +%s)

log() { printf '[install %3ds] %s\n' "$(($(date +%s) - START))" "$*"; }
die() { printf '[install] error: %s\n' "$*" >&2; exit 1; }

case "$MODE" in
  auto|torchvision|compile|mmcv) ;;
  *) die "DHKD_MMCV_OPS=$MODE: use auto (default), torchvision or compile" ;;
esac
$PY -m pip --version >/dev/null 2>&1 ||
  die "$PY has no pip: run \`$PY -m ensurepip\` (Debian: apt install python3-pip python3-venv)"
log "Python: $($PY -c 'import sys; print(sys.executable, sys.version.split()[0])')"

# 1. torch: whatever is installed is reused; otherwise the pinned pair.
if $PY -c 'import torch' 2>/dev/null; then
  log "reusing installed torch $($PY -c 'import torch; print(torch.__version__)')"
  if ! $PY -c 'import torchvision' 2>/dev/null; then
    # pinning torch to what is there makes pip pick the matching torchvision
    $PIP torchvision "torch==$($PY -c 'import torch; print(torch.__version__.split("+")[0])')"
  fi
else
  log "installing torch==$TORCH_VERSION torchvision==$TORCHVISION_VERSION"
  $PIP "torch==$TORCH_VERSION" "torchvision==$TORCHVISION_VERSION"
fi
TORCH_FULL=$($PY -c 'import torch; print(torch.__version__)')
TORCH_PIN="torch==${TORCH_FULL%%+*}"

# 2. the OpenMMLab stack and this package.  mmengine resolves `mmdet::`
# config names through pkg_resources, which setuptools dropped in 81;
# torch 2.14 needs setuptools >= 77.0.3.
# submitit and tensorboard are optional (setup.py's extras 'slurm' and
# 'tensorboard'): the slurm launcher of tools/reproduce.py, live curves.
log "installing mmengine, mmdet, pycocotools, submitit, tensorboard and dhkd_det"
$PIP "mmengine==0.10.7" "mmdet==3.3.0" pycocotools scikit-learn matplotlib \
    "submitit>=1.5" tensorboard "pytest>=7" "setuptools>=77.0.3,<81" "$TORCH_PIN"
$PIP --no-build-isolation --no-deps -e "$REPO"
# the start-up hook: one line that puts dhkd_det/ops/import_hook.py's
# finder on sys.meta_path, so every process can `import mmcv.ops`
SITE=$($PY -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
cp "$REPO/dhkd_det/ops/startup_hook_line.txt" "$SITE/.dhkd_det_mmcv_ops.pth.tmp"
mv "$SITE/.dhkd_det_mmcv_ops.pth.tmp" "$SITE/dhkd_det_mmcv_ops.pth"

# 3. mmcv.  An installed mmcv is good if its Python package has the wanted
# version and, with compiled ops, they load and run; anything else (an
# ops-less `mmcv` wheel of a failed build, a half-finished install, another
# version) is replaced.
mmcv_state() {  # [ops mode] -> compiled_cuda / compiled_cpu / served / absent / broken
  DHKD_MMCV_OPS=${1:-auto} $PY - "$MMCV_VERSION" <<'PYEOF' 2>/dev/null || echo broken
import sys
try:
    import mmcv
except ImportError:
    print('absent'); raise SystemExit
import torch
from dhkd_det.ops import ops_backend
assert mmcv.__version__ == sys.argv[1], mmcv.__version__
import mmcv.ops
keep = mmcv.ops.nms(torch.tensor([[0., 0, 4, 4], [0, 0, 4, 5]]),
                    torch.tensor([.9, .8]), 0.5)[1]
assert keep.tolist() == [0], keep
backend = ops_backend()
if backend == 'compiled':
    from mmcv import _ext
    cuda = _ext.get_compiling_cuda_version() not in ('', 'not available')
    backend += '_cuda' if cuda else '_cpu'
print(backend)
PYEOF
}
dist_installed() { $PY -m pip show "$1" >/dev/null 2>&1; }
uninstall_mmcv() {
  for dist in mmcv mmcv-full mmcv-lite; do
    if dist_installed "$dist"; then $PY -m pip uninstall -y -q "$dist"; fi
  done
}

# Builds mmcv with compiled ops into $WHEEL_DIR and validates the wheel
# before it is cached: a platform wheel whose ops import and run.
build_mmcv() {
  local build src arch=""
  build=$(mktemp -d)
  trap 'rm -rf "$build"' RETURN
  # mmcv's setup.py needs pkg_resources (setuptools < 70) while the
  # environment keeps a newer setuptools for torch: the old one goes to a
  # folder put first on PYTHONPATH, so the build runs with the active
  # interpreter and sees its torch, whatever kind of environment it is.
  $PIP -q --target "$build/tools" "setuptools<70" wheel ninja
  local BPY="env PYTHONPATH=$build/tools${PYTHONPATH:+:$PYTHONPATH} $PY"
  $BPY -m pip download -q --no-deps --no-binary :all: --no-build-isolation \
      "mmcv==$MMCV_VERSION" -d "$build"
  tar xzf "$build/mmcv-$MMCV_VERSION.tar.gz" -C "$build"
  src="$build/mmcv-$MMCV_VERSION"
  # torch >= 2.6 headers need C++20; mmcv 2.1.0 asks for C++14/17
  sed -i 's/-std=c++14/-std=c++20/g; s/-std=c++17/-std=c++20/g' "$src/setup.py"
  if [ "$CUDA_ARCHS" != cpu ]; then
    log "building mmcv $MMCV_VERSION ops with CUDA kernels for sm $CUDA_ARCHS"
    export FORCE_CUDA=1 TORCH_CUDA_ARCH_LIST="$CUDA_ARCHS"
  else
    log "building mmcv $MMCV_VERSION ops, CPU kernels only (no GPU or no nvcc" \
        "visible); 12-22 minutes on 2 cores"
  fi
  (cd "$src" && MMCV_WITH_OPS=1 MAX_JOBS=${MAX_JOBS:-$(nproc)} \
     $BPY -m pip wheel -q --no-build-isolation --no-deps . -w "$build/dist")
  local wheel
  wheel=$(ls "$build"/dist/mmcv-*.whl)
  case "$wheel" in
    *-none-any.whl) die "the mmcv build produced $(basename "$wheel"), a wheel without compiled ops; see the build log above" ;;
  esac
  log "validating $(basename "$wheel")"
  $PIP -q --no-deps --target "$build/check" "$wheel"
  PYTHONPATH="$build/check${PYTHONPATH:+:$PYTHONPATH}" DHKD_MMCV_OPS=mmcv \
    $PY - "$CUDA_ARCHS" <<'PYEOF' || die "the built mmcv wheel failed its check; nothing was cached"
import sys
import torch
import dhkd_det  # noqa: F401
from mmcv import _ext
from mmcv.ops import nms, RoIAlign
devices = ['cpu'] + (['cuda'] if sys.argv[1] != 'cpu' else [])
for device in devices:
    boxes = torch.tensor([[0., 0, 4, 4], [0, 0, 4, 5]], device=device)
    assert nms(boxes, torch.tensor([.9, .8], device=device), .5)[1].tolist() == [0]
    feat = torch.ones(1, 1, 8, 8, device=device)
    out = RoIAlign(2, 1.0, 0)(feat, torch.tensor([[0., 1, 1, 5, 5]], device=device))
    assert torch.allclose(out, torch.ones_like(out))
print('compiled mmcv ops run on', devices, 'from', _ext.__file__)
PYEOF
  mkdir -p "$WHEEL_DIR"
  cp "$wheel" "$WHEEL_DIR/.$(basename "$wheel").tmp"
  mv "$WHEEL_DIR/.$(basename "$wheel").tmp" "$WHEEL_DIR/$(basename "$wheel")"
}

state=$(mmcv_state)
if [ "$MODE" = compile ] || [ "$MODE" = mmcv ]; then
  CUDA_ARCHS=$($PY - <<'PYEOF'
import shutil, torch
if torch.cuda.is_available() and torch.version.cuda and shutil.which('nvcc'):
    caps = {torch.cuda.get_device_capability(i)
            for i in range(torch.cuda.device_count())}
    print(';'.join(f'{a}.{b}' for a, b in sorted(caps)))
else:
    print('cpu')
PYEOF
)
  if [ "$state" = compiled_cuda ] || { [ "$state" = compiled_cpu ] && [ "$CUDA_ARCHS" = cpu ]; }; then
    log "mmcv $MMCV_VERSION with compiled ops already installed ($state)"
  else
    PYTAG=$($PY -c 'import sys; print(f"cp{sys.version_info[0]}{sys.version_info[1]}")')
    WHEEL_DIR="$CACHE/wheels/mmcv-$MMCV_VERSION-ops-torch-$TORCH_FULL-$PYTAG-${CUDA_ARCHS//;/_}"
    if ls "$WHEEL_DIR"/mmcv-*-linux_*.whl >/dev/null 2>&1; then
      log "using the cached mmcv wheel in $WHEEL_DIR"
    else
      build_mmcv
    fi
    uninstall_mmcv
    $PIP --force-reinstall --no-deps "$WHEEL_DIR"/mmcv-*.whl
    $PIP "$WHEEL_DIR"/mmcv-*.whl "$TORCH_PIN"
  fi
  case "$(mmcv_state mmcv)" in
    compiled_*) ;;
    *) die "mmcv's compiled ops do not load after the install" ;;
  esac
else
  case "$state" in
    compiled_*) log "keeping the installed mmcv $MMCV_VERSION with compiled ops ($state)" ;;
    served) log "mmcv $MMCV_VERSION (Python package) already installed" ;;
    *)
      log "installing mmcv-lite==$MMCV_VERSION (mmcv's Python package, no compiled ops; found: $state)"
      uninstall_mmcv
      $PIP --force-reinstall --no-deps "mmcv-lite==$MMCV_VERSION"
      $PIP "mmcv-lite==$MMCV_VERSION" "$TORCH_PIN" ;;
  esac
fi

# 4. the checks a user would make, each in a fresh process
(cd / && $PY -c 'import mmcv.ops') ||
  die '`import mmcv.ops` fails in a fresh process (the dhkd_det_mmcv_ops.pth start-up hook is missing?)'
(cd / && $PY -c 'import mmdet.models, dhkd_det') || die 'mmdet or dhkd_det does not import'
log "done: $(cd / && $PY -c 'import torch, mmcv, mmdet, mmengine; print("torch", torch.__version__, "mmcv", mmcv.__version__, "mmdet", mmdet.__version__, "mmengine", mmengine.__version__)'); $(cd / && $PY -m dhkd_det.ops)"
