#!/usr/bin/python3
"""A real SMTP server for spur-app's mail tests: Debian's aiosmtpd on 127.0.0.1:PORT.

Each message it accepts is appended to OUT as one JSON line: the envelope, whether the session
was encrypted (and by STARTTLS), the headers as decoded (RFC 2047), the body as decoded
(quoted-printable), and the raw bytes. A recipient whose local part starts with "reject" is
refused with 550, a permanent failure. Prints "listening on 127.0.0.1:PORT" once it accepts
connections, then serves until killed.

usage: smtp_server.py PORT OUT [--starttls CERT KEY | --implicit-tls CERT KEY]
"""
import argparse
import email
import email.policy
import json
import signal
import ssl
import sys

from aiosmtpd.controller import Controller


class Recorder:
    def __init__(self, out):
        self.out = out

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.startswith("reject"):
            return "550 5.1.1 No such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        raw = envelope.original_content or envelope.content
        message = email.message_from_bytes(raw, policy=email.policy.default)
        record = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "tls": server.transport.get_extra_info("ssl_object") is not None,
            "starttls": session.ssl is not None,
            "headers": {name: str(value) for name, value in message.items()},
            "body": message.get_content(),
            "raw": raw.decode("utf-8", "replace"),
        }
        # One write of one whole line: the test reads complete lines only.
        with open(self.out, "a", encoding="utf-8") as f:
            f.write(json.dumps(record) + "\n")
        return "250 Message accepted"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("port", type=int)
    parser.add_argument("out")
    parser.add_argument("--starttls", nargs=2, metavar=("CERT", "KEY"))
    parser.add_argument("--implicit-tls", nargs=2, metavar=("CERT", "KEY"))
    args = parser.parse_args()

    def context(cert, key):
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(cert, key)
        return ctx

    kwargs = {}
    if args.starttls:
        kwargs["tls_context"] = context(*args.starttls)  # offered, not required
    if args.implicit_tls:
        kwargs["ssl_context"] = context(*args.implicit_tls)
    controller = Controller(Recorder(args.out), hostname="127.0.0.1", port=args.port, **kwargs)
    controller.start()
    print(f"listening on 127.0.0.1:{args.port}", flush=True)
    signal.signal(signal.SIGTERM, lambda *_: (controller.stop(), sys.exit(0)))
    while True:
        signal.pause()


if __name__ == "__main__":
    main()
