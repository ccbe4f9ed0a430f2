#!/usr/bin/env bash
echo "scripts/demo.sh: no demo yet" >&2; exit 1
