"""
A submission server for the mail notifier's specs: aiosmtpd (Debian's python3-aiosmtpd) on
127.0.0.1 offering STARTTLS with the given certificate and AUTH PLAIN and LOGIN (only over TLS),
accepting mail for the listed recipients alone. Each message it takes is written to the spill
directory as N.eml (the octets received after DATA) with N.env beside it, one "name value" line
per fact: mail_from, rcpt_to and mail_option (repeated), tls and auth (yes/no), login, helo.

usage: submission_server.py PORT CERT KEY USER PASSWORD SPILL_DIR RECIPIENT[,RECIPIENT...] [MECHANISM_TO_HIDE]
Prints "ready" once it listens; stops on SIGTERM.
"""
import os
import signal
import ssl
import sys
import threading

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

port, cert, key, user, password, spill, allowed = sys.argv[1:8]
hidden = sys.argv[8:]
allowed = set(allowed.split(","))
count = 0
lock = threading.Lock()


class Handler:
    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address not in allowed:
            return "550 5.1.1 <%s>: no such user here" % address
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server, session, envelope):
        global count
        with lock:
            count += 1
            n = count
        base = os.path.join(spill, str(n))
        with open(base + ".eml.tmp", "wb") as f:
            f.write(envelope.original_content)
        with open(base + ".env.tmp", "w") as f:
            # One "name value" line per fact; repeated names for the lists.
            f.write("mail_from %s\n" % envelope.mail_from)
            for r in envelope.rcpt_tos:
                f.write("rcpt_to %s\n" % r)
            for o in envelope.mail_options:
                f.write("mail_option %s\n" % o)
            f.write("tls %s\n" % ("yes" if session.ssl is not None else "no"))
            f.write("auth %s\n" % ("yes" if session.authenticated else "no"))
            if isinstance(session.auth_data, LoginPassword):
                f.write("login %s\n" % session.auth_data.login.decode())
            f.write("helo %s\n" % session.host_name)
        os.rename(base + ".eml.tmp", base + ".eml")
        os.rename(base + ".env.tmp", base + ".env")
        return "250 2.0.0 queued as %d" % n


def authenticator(server, session, envelope, mechanism, auth_data):
    ok = (isinstance(auth_data, LoginPassword)
          and auth_data.login == user.encode() and auth_data.password == password.encode())
    return AuthResult(success=ok, handled=False, auth_data=auth_data if ok else None)


context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
context.load_cert_chain(cert, key)
controller = Controller(Handler(), hostname="127.0.0.1", port=int(port), server_hostname="submission.vigil.test",
                        tls_context=context, require_starttls=False, authenticator=authenticator,
                        auth_require_tls=True, auth_exclude_mechanism=hidden, decode_data=False)
controller.start()
print("ready", flush=True)
stop = threading.Event()
signal.signal(signal.SIGTERM, lambda *a: stop.set())
stop.wait()
controller.stop()
