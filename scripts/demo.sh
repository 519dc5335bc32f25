#!/usr/bin/env bash
# The main job on a fresh machine: install, make a sample clip from a real face photo
# (scikit-image's astronaut), and analyse it in-process with no servers.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install.sh
mkdir -p var
CLIP=var/astronaut-720p.mp4
[ -f "$CLIP" ] || .venv/bin/deepfakestream sample "$CLIP" --subject astronaut --seconds 10 --width 1280 --height 720 --fps 30 >/dev/null
exec .venv/bin/deepfakestream analyze "$CLIP" "$@"
