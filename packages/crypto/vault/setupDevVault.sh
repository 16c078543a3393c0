#!/usr/bin/env bash
# Prepares a Vault (or OpenBao) dev server for the VaultKeyStore int tests: enables Transit at
# VAULT_TRANSIT_MOUNT (default transit), writes the least-privilege policy and prints a service
# token holding only that policy. Needs VAULT_ADDR and a root token in VAULT_TOKEN, and the
# `vault` or `bao` CLI on PATH (or its path in VAULT_CLI). Dev servers only: see VAULT.md.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cli="${VAULT_CLI:-$(command -v vault || command -v bao || true)}"
if [[ -z "$cli" ]]; then
  echo "neither vault nor bao is on PATH (set VAULT_CLI)" >&2
  exit 1
fi
: "${VAULT_ADDR:?set VAULT_ADDR, e.g. http://127.0.0.1:8200}"
: "${VAULT_TOKEN:?set VAULT_TOKEN to the dev server root token}"
export BAO_ADDR="$VAULT_ADDR" BAO_TOKEN="$VAULT_TOKEN"
mount="${VAULT_TRANSIT_MOUNT:-transit}"
if ! "$cli" secrets list -format=json | grep -q "\"${mount}/\""; then
  "$cli" secrets enable -path="$mount" transit >&2
fi
sed "s#\"transit/#\"${mount}/#" "$here/fitledger-keys.hcl" | "$cli" policy write fitledger-keys - >&2
"$cli" token create -policy=fitledger-keys -period=24h -field=token
