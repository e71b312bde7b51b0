#!/usr/bin/env python3
"""Verify a JWT with an implementation independent of ours (PyJWT over
pyca/cryptography), for the Rust tests.

    verify_jwt.py TOKEN ALG (--jwks FILE | --secret TEXT)

Verifies the signature with the JWKS key whose `kid` matches the header (or
the only key), checks that the header's `alg` is ALG, and prints
{"header": ..., "payload": ...} as JSON. Exits 1 with a message otherwise.
"""
import json
import sys

import jwt


def main(argv):
    token, alg, mode, source = argv[1], argv[2], argv[3], argv[4]
    header = jwt.get_unverified_header(token)
    if header.get("alg") != alg:
        sys.exit(f"header alg {header.get('alg')!r} is not {alg!r}")
    if mode == "--secret":
        key = source
    elif mode == "--jwks":
        with open(source) as f:
            keys = json.load(f)["keys"]
        matching = [k for k in keys if k.get("kid") == header.get("kid")] or keys
        if len(matching) != 1:
            sys.exit(f"no single JWKS key for kid {header.get('kid')!r}")
        key = jwt.PyJWK(matching[0]).key
    else:
        sys.exit(f"unknown key source {mode}")
    payload = jwt.decode(token, key, algorithms=[alg], options={"verify_aud": False})
    print(json.dumps({"header": header, "payload": payload}))


if __name__ == "__main__":
    main(sys.argv)
