"""Verifies captured webhook requests with the reference Standard Webhooks
library (pip install standardwebhooks).

Input: a JSON file [{"secret": "whsec_…", "headers": {...}, "body": "..."}].
Every message must verify; each one with a changed body, a changed id or a
foreign secret must be rejected. Prints a summary; exits 1 on any failure.
"""
import json
import sys

from standardwebhooks.webhooks import Webhook, WebhookVerificationError


def rejects(secret, body, headers):
    try:
        Webhook(secret).verify(body, headers)
    except WebhookVerificationError:
        return True
    return False


def main():
    messages = json.load(open(sys.argv[1]))
    foreign = "whsec_" + "QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUE="
    ok = 0
    for m in messages:
        payload = Webhook(m["secret"]).verify(m["body"], m["headers"])
        assert payload["id"] == m["headers"]["webhook-id"], payload
        changed = dict(m["headers"], **{"webhook-id": m["headers"]["webhook-id"] + "0"})
        assert rejects(m["secret"], m["body"], changed), "a changed id verified"
        assert rejects(m["secret"], m["body"].replace('"', "'", 1), m["headers"]), "a changed body verified"
        assert rejects(foreign, m["body"], m["headers"]), "a foreign secret verified"
        ok += 1
    print(f"standardwebhooks verified {ok} messages and rejected {3 * ok} tampered ones")


if __name__ == "__main__":
    try:
        main()
    except Exception as e:  # noqa: BLE001
        print(f"FAILED: {e!r}")
        sys.exit(1)
