# Least privilege for the FitLedger services' Vault token (VaultKeyStore, KEY_STORE=vault).
# Replace "transit" with VAULT_TRANSIT_MOUNT if you mount the engine elsewhere.

# Create a subject's Transit key (creating an existing one is an update), read its settings back,
# allow its deletion (config deletion_allowed=true) and delete it on erasure. The "*" also covers
# keys/<name>/config, /rotate, /trim and /import: allowed_parameters is what keeps those harmless:
# only these values are accepted, so the token can never make a key exportable, create a
# non-derived or plaintext-backup key, or trim or import key versions.
path "transit/keys/fitledger-subject-*" {
  capabilities = ["create", "read", "update", "delete"]
  allowed_parameters = {
    "type"                   = ["aes256-gcm96"]
    "derived"                = [true]
    "exportable"             = [false]
    "allow_plaintext_backup" = [false]
    "deletion_allowed"       = [true]
  }
}

# A new subject's data key, returned with its wrapped form (the process needs it at once).
path "transit/datakey/plaintext/fitledger-subject-*" {
  capabilities = ["update"]
}

# Unwrap a stored data key on a cache miss.
path "transit/decrypt/fitledger-subject-*" {
  capabilities = ["update"]
}

# Deliberately absent: list on transit/keys, transit/export/*, transit/backup/*, transit/encrypt/*,
# transit/rewrap/*, and any path outside the fitledger-subject- prefix.
