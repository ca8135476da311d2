#!/usr/bin/env bash
# Build wstp_jupyter/kernel/static/scene3d.js: the 3D widget's module (static/src/scene3d.js)
# bundled with three.js (npm package "three", MIT) and minified, so the wheel ships it and
# JupyterLab never fetches JavaScript from a CDN. Needs node and npm; run from the repository.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$work"
npm init -y >/dev/null
npm install --no-audit --no-fund three@0.187.0 esbuild@0.28.2 >/dev/null
cp "$repo/wstp_jupyter/kernel/static/src/scene3d.js" .
npx esbuild scene3d.js --bundle --format=esm --minify --legal-comments=inline \
    --outfile="$repo/wstp_jupyter/kernel/static/scene3d.js"
cp node_modules/three/LICENSE "$repo/wstp_jupyter/kernel/static/three-LICENSE"
echo "three $(node -p 'require("three/package.json").version')" \
    > "$repo/wstp_jupyter/kernel/static/VERSIONS"
