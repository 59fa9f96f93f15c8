#!/usr/bin/env bash
# Registers aml/environment.yml (with aml/conda.yml) in the workspace under a version derived
# from the content of both files, unless that version exists already, and prints its
# reference: azureml:<name>:<version>. Idempotent: the same files always give the same version.
# Expects az with the ml extension and default group/workspace (az configure --defaults).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
name=$(sed -n 's/^name: *//p' "$here/environment.yml")
# A letter first, so that the version never reads as a number.
version="h$(cat "$here/environment.yml" "$here/conda.yml" | sha256sum | cut -c1-12)"
if ! az ml environment show --name "$name" --version "$version" --only-show-errors -o none 2>/dev/null; then
  echo "Registering environment $name:$version" >&2
  az ml environment create --file "$here/environment.yml" --set version="$version" \
    --only-show-errors -o none >&2
fi
echo "azureml:$name:$version"
