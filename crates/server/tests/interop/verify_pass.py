#!/usr/bin/env python3
"""Verifies a Symbolon pass with a third-party JOSE library (joserfc).

usage: verify_pass.py JWKS_FILE JWS_FILE

Exit 0 and print the credential's id and subject name when the compact JWS
verifies against the JWK Set with EdDSA (Ed25519); exit 1 with the reason
otherwise. Nothing here is Symbolon code: it is what any verifier would do.
"""
import json
import sys

from joserfc import jws
from joserfc.errors import JoseError
from joserfc.jwk import KeySet


def main() -> int:
    jwks_path, jws_path = sys.argv[1], sys.argv[2]
    with open(jwks_path, encoding="utf-8") as f:
        key_set = KeySet.import_key_set(json.load(f))
    with open(jws_path, encoding="utf-8") as f:
        token = f.read().strip()
    try:
        obj = jws.deserialize_compact(token, key_set, algorithms=["EdDSA"])
    except (JoseError, ValueError) as e:
        print(f"rejected: {type(e).__name__}: {e}")
        return 1
    header = obj.protected
    if header.get("typ") != "vc+jwt" or header.get("alg") != "EdDSA":
        print(f"rejected: unexpected header {header}")
        return 1
    claims = json.loads(obj.payload)
    if claims.get("iss") != claims.get("issuer", {}).get("id"):
        print("rejected: iss differs from issuer.id")
        return 1
    print(json.dumps({"id": claims["id"], "name": claims["credentialSubject"]["name"], "kid": header["kid"]}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
