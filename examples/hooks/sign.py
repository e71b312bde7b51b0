#!/usr/bin/env python3
"""Print curl's header arguments for a signed provider hook request, as the
provider would sign BODY now (standard library only):

    python3 examples/hooks/sign.py zitadel BODY.json     # $ZITADEL_SIGNING_KEY
    python3 examples/hooks/sign.py supabase BODY.json    # $SUPABASE_HOOK_SECRET (v1,whsec_...)

ZITADEL: `ZITADEL-Signature: t=<unix>,v1=<hex HMAC-SHA256 of "t.body">`.
Supabase (Standard Webhooks): `webhook-id`, `webhook-timestamp` and
`webhook-signature: v1,<base64 HMAC-SHA256 of "id.timestamp.body">` with the
secret's base64 part as the key.
"""
import base64
import hashlib
import hmac
import os
import shlex
import sys
import time
import uuid


def main():
    if len(sys.argv) != 3 or sys.argv[1] not in ("zitadel", "supabase"):
        sys.exit(__doc__)
    provider, path = sys.argv[1], sys.argv[2]
    body = open(path, "rb").read()
    now = str(int(time.time()))
    if provider == "zitadel":
        key = os.environ["ZITADEL_SIGNING_KEY"].encode()
        mac = hmac.new(key, now.encode() + b"." + body, hashlib.sha256).hexdigest()
        headers = {"ZITADEL-Signature": f"t={now},v1={mac}"}
    else:
        secret = os.environ["SUPABASE_HOOK_SECRET"].split()[0]
        key = base64.b64decode(secret.removeprefix("v1,").removeprefix("whsec_"))
        msg_id = f"msg_{uuid.uuid4().hex}"
        mac = hmac.new(key, f"{msg_id}.{now}.".encode() + body, hashlib.sha256).digest()
        headers = {
            "webhook-id": msg_id,
            "webhook-timestamp": now,
            "webhook-signature": "v1," + base64.b64encode(mac).decode(),
        }
    print(" ".join(f"-H {shlex.quote(f'{k}: {v}')}" for k, v in headers.items()))


if __name__ == "__main__":
    main()
