#!/usr/bin/env bash
# Installs dhkd_det and everything it needs into the active Python environment:
# torch/torchvision (an installed torch is reused), mmengine, mmdet 3.3.0, and
# mmcv 2.1.0 with its compiled ops, built from the PyPI sdist because PyPI has
# no mmcv wheel.  The built mmcv wheel is cached (keyed by mmcv, torch and
# Python versions), so a second install takes seconds.
#
#   bash tools/install.sh            # install
#   DHKD_CACHE=/path bash tools/install.sh   # choose the wheel cache
set -euo pipefail

MMCV_VERSION=2.1.0
TORCH_VERSION=2.14.1
TORCHVISION_VERSION=0.29.1
PY=${PYTHON:-python3}
REPO=$(cd "$(dirname "$0")/.." && pwd)
CACHE=${DHKD_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/dhkd_det}
PIP="$PY -m pip install --no-input"

log() { printf '[install] %s\n' "$*"; }

# 1. torch: reuse whatever torch is installed; otherwise the pinned pair.
if $PY -c 'import torch' 2>/dev/null; then
  installed_torch=$($PY -c 'import torch; print(torch.__version__.split("+")[0])')
  log "reusing installed torch $installed_torch"
  if ! $PY -c 'import torchvision' 2>/dev/null; then
    # pin torch to what is there so pip picks the matching torchvision
    $PIP torchvision "torch==$installed_torch"
  fi
else
  log "installing torch==$TORCH_VERSION torchvision==$TORCHVISION_VERSION"
  $PIP "torch==$TORCH_VERSION" "torchvision==$TORCHVISION_VERSION"
fi
TORCH_FULL=$($PY -c 'import torch; print(torch.__version__)')
TORCH_PIN="torch==${TORCH_FULL%%+*}"

# 3. mmcv with compiled ops, from the cached wheel or built once from the sdist
have_mmcv_ops() {
  $PY - <<'PYEOF' 2>/dev/null
import mmcv, mmcv.ops
from mmcv.utils import ext_loader
ext_loader.load_ext('_ext', ['nms', 'roi_align_forward'])
assert mmcv.__version__ == '2.1.0'
PYEOF
}
if have_mmcv_ops; then
  log "mmcv $MMCV_VERSION with ops already installed"
else
  PYTAG=$($PY -c 'import sys; print(f"cp{sys.version_info[0]}{sys.version_info[1]}")')
  WHEEL_DIR="$CACHE/wheels/mmcv-$MMCV_VERSION-torch-$TORCH_FULL-$PYTAG"
  if ! ls "$WHEEL_DIR"/mmcv-*.whl >/dev/null 2>&1; then
    log "building mmcv $MMCV_VERSION from source (about 20 minutes on 2 cores)"
    BUILD=$(mktemp -d)
    # mmcv's setup.py imports pkg_resources (setuptools<70) while torch wants
    # setuptools>=77: build in a throw-away venv that sees the installed torch.
    $PY -m venv --system-site-packages "$BUILD/venv"
    BPY="$BUILD/venv/bin/python"
    $BPY -m pip install --no-input -q "setuptools<70" wheel ninja
    $BPY -m pip download --no-deps --no-binary :all: --no-build-isolation \
        "mmcv==$MMCV_VERSION" -d "$BUILD" >/dev/null
    tar xzf "$BUILD"/mmcv-$MMCV_VERSION.tar.gz -C "$BUILD"
    # torch >= 2.6 headers need C++20; mmcv 2.1.0 forces C++14/17.
    sed -i "s/-std=c++14/-std=c++20/g; s/-std=c++17/-std=c++20/g" \
        "$BUILD/mmcv-$MMCV_VERSION/setup.py"
    mkdir -p "$WHEEL_DIR"
    (cd "$BUILD/mmcv-$MMCV_VERSION" && \
      MMCV_WITH_OPS=1 MAX_JOBS=${MAX_JOBS:-$(nproc)} \
      $BPY -m pip wheel --no-build-isolation --no-deps . -w "$WHEEL_DIR.tmp")
    mv "$WHEEL_DIR".tmp/mmcv-*.whl "$WHEEL_DIR"/ && rmdir "$WHEEL_DIR.tmp"
    rm -rf "$BUILD"
  else
    log "using cached mmcv wheel from $WHEEL_DIR"
  fi
  $PIP "$WHEEL_DIR"/mmcv-*.whl "$TORCH_PIN"
fi

# 4. the rest, then dhkd_det itself (editable)
# mmengine resolves `mmdet::` config names through pkg_resources, which
# setuptools dropped in 81; torch 2.14 needs >= 77.0.3.
$PIP "mmengine==0.10.7" "mmdet==3.3.0" pycocotools scikit-learn pytest \
    "setuptools>=77.0.3,<81" "$TORCH_PIN"
$PIP --no-build-isolation -e "$REPO" "$TORCH_PIN"
have_mmcv_ops || { echo "mmcv ops failed to import after install" >&2; exit 1; }
log "done: $($PY -c 'import torch, mmcv, mmdet, mmengine; print("torch", torch.__version__, "mmcv", mmcv.__version__, "mmdet", mmdet.__version__, "mmengine", mmengine.__version__)')"
