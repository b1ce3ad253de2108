"""Schemathesis hooks for scripts/api-schema-test.sh, loaded through `hooks` in
schemathesis.toml."""

import schemathesis

# Schemathesis 4.32 has no serializer for `application/pkcs7-mime`, which the upload
# operation accepts for the ABM token file (`*_smime.p7m`). Its body is bytes as for
# `application/octet-stream`, so the generated value is sent as is.
schemathesis.serializer.alias("application/pkcs7-mime", "application/octet-stream")
