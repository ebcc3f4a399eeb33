"""
An SMTP server that records what it is given, for the specs that mail (MailServers.Recorder):
aiosmtpd (Debian's python3-aiosmtpd) on one address and port, taking mail for any recipient, or
with --recipients for those alone (the others refused at RCPT). With --cert and --key it offers
STARTTLS (RFC 3207); with --user and --password too, AUTH PLAIN and LOGIN (RFC 4954), only over
TLS, less each mechanism named by --hide. Each message is written to the spill directory as N.eml
(the octets received after DATA) with N.env beside it, N counting from 1 in the order the messages
came, one "name value" line per fact: mail_from, rcpt_to and mail_option (repeated), tls and auth
(yes/no), login, helo, peer. Files appear whole (written aside, then renamed).

usage: smtp_recorder.py --bind ADDR --port P --spill DIR [--cert PEM --key PEM [--user U --password P]]
                        [--recipients R[,R...]] [--hide MECHANISM]...
Prints "ready" once it listens; stops on SIGTERM.
"""
import argparse
import os
import signal
import ssl
import threading

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

args = argparse.ArgumentParser()
args.add_argument('--bind', required=True)
args.add_argument('--port', type=int, required=True)
args.add_argument('--spill', required=True)
args.add_argument('--cert')
args.add_argument('--key')
args.add_argument('--user')
args.add_argument('--password')
args.add_argument('--recipients')
args.add_argument('--hide', action='append', default=[])
opts = args.parse_args()
allowed = set(opts.recipients.split(',')) if opts.recipients is not None else None
lock = threading.Lock()
count = 0


class Handler:
    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if allowed is not None and address not in allowed:
            return '550 5.1.1 <%s>: no such user here' % address
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return '250 2.1.5 OK'

    async def handle_DATA(self, server, session, envelope):
        global count
        with lock:
            count += 1
            n = count
        base = os.path.join(opts.spill, str(n))
        with open(base + '.eml.tmp', 'wb') as f:
            f.write(envelope.original_content)
        with open(base + '.env.tmp', 'w') as f:
            # One "name value" line per fact; repeated names for the lists.
            f.write('mail_from %s\n' % envelope.mail_from)
            for r in envelope.rcpt_tos:
                f.write('rcpt_to %s\n' % r)
            for o in envelope.mail_options:
                f.write('mail_option %s\n' % o)
            f.write('tls %s\n' % ('yes' if session.ssl is not None else 'no'))
            f.write('auth %s\n' % ('yes' if session.authenticated else 'no'))
            if isinstance(session.auth_data, LoginPassword):
                f.write('login %s\n' % session.auth_data.login.decode())
            f.write('helo %s\n' % session.host_name)
            f.write('peer %s\n' % session.peer[0])
        os.rename(base + '.eml.tmp', base + '.eml')
        os.rename(base + '.env.tmp', base + '.env')
        return '250 2.0.0 queued as %d' % n


def authenticator(server, session, envelope, mechanism, auth_data):
    ok = (isinstance(auth_data, LoginPassword)
          and auth_data.login == opts.user.encode() and auth_data.password == opts.password.encode())
    return AuthResult(success=ok, handled=False, auth_data=auth_data if ok else None)


tls = {}
if opts.cert:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(opts.cert, opts.key)
    tls = dict(tls_context=context, require_starttls=False)
auth = dict(authenticator=authenticator, auth_require_tls=True, auth_exclude_mechanism=opts.hide) if opts.user else {}
controller = Controller(Handler(), hostname=opts.bind, port=opts.port, server_hostname='mail.vigil.test',
                        decode_data=False, ready_timeout=60, **tls, **auth)
controller.start()
print('ready', flush=True)
stop = threading.Event()
signal.signal(signal.SIGTERM, lambda *a: stop.set())
stop.wait()
controller.stop()
