#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Copy the module's sources (Kbuild, kernel/, uapi/) into DIR, afresh, for
# a build against another kernel tree that leaves the top-level objects
# alone: the sanitizer lanes, check-kernels, DKMS, lint.
#
#   scripts/module-src.sh DIR
set -euo pipefail

dir=${1:?usage: $0 DIR}
cd "$(dirname "$(readlink -f "$0")")/.."
rm -rf "$dir"
mkdir -p "$dir/kernel"
cp Kbuild "$dir/"
cp kernel/*.[ch] "$dir/kernel/"
cp -R uapi "$dir/"
