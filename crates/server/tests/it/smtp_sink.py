"""An aiosmtpd handler for the notification tests: each message received is
written, parsed, as one JSON file into the directory given as its argument.

    PYTHONPATH=<this dir> python3 -m aiosmtpd -n -l 127.0.0.1:<port> -c smtp_sink.Sink <dir>
"""
import email
import email.policy
import itertools
import json
import os


class Sink:
    def __init__(self, out):
        self.out = out
        self.n = itertools.count()

    @classmethod
    def from_cli(cls, parser, *args):
        return cls(args[0])

    async def handle_DATA(self, server, session, envelope):
        msg = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
        record = {
            "rcpt_tos": list(envelope.rcpt_tos),
            "to": str(msg["to"]),
            "from": str(msg["from"]),
            "subject": str(msg["subject"]),
            "message_id": str(msg["message-id"]),
            "list_unsubscribe": str(msg["list-unsubscribe"]),
            "list_unsubscribe_post": str(msg["list-unsubscribe-post"]),
            "body": msg.get_content(),
        }
        name = f"{os.getpid()}-{next(self.n)}"
        tmp = os.path.join(self.out, f".{name}.tmp")
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(record, f)
        os.rename(tmp, os.path.join(self.out, f"{name}.json"))
        return "250 OK"
