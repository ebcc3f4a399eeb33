"""A webhook receiver for the specs: records every POST as a JSON line and answers as told.

  receiver.py --port P [--bind ADDR] --record FILE [--secret S] [--answers 503,503,204] [--hang]

Prints "listening PORT" once bound. Each request is recorded before it is answered: its path, its
headers (names in lower case), its body as text, and whether X-Vigil-Signature matches the HMAC
the receiver computes itself from the body and --secret (null without a secret). --answers is the
status of each request in turn, the last one repeated (default 204); --hang reads the request and
never answers.
"""
import argparse, hashlib, hmac, http.server, json, sys, threading, time

args = argparse.ArgumentParser()
args.add_argument('--port', type=int, default=0)
args.add_argument('--bind', default='127.0.0.1')
args.add_argument('--record', required=True)
args.add_argument('--secret')
args.add_argument('--answers', default='204')
args.add_argument('--hang', action='store_true')
opts = args.parse_args()
answers = [int(a) for a in opts.answers.split(',')]
lock = threading.Lock()
count = 0


def verified(headers, body):
    if opts.secret is None:
        return None
    expected = 'sha256=' + hmac.new(opts.secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, headers.get('X-Vigil-Signature', ''))


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'

    def do_POST(self):
        global count
        body = self.rfile.read(int(self.headers.get('Content-Length', '0')))
        with lock:
            status = answers[min(count, len(answers) - 1)]
            count += 1
            with open(opts.record, 'a') as f:
                f.write(json.dumps({'path': self.path, 'headers': {k.lower(): v for k, v in self.headers.items()},
                                    'body': body.decode(), 'verified': verified(self.headers, body),
                                    'status': None if opts.hang else status, 'at': time.time()}) + '\n')
        if opts.hang:
            time.sleep(3600)
            return
        text = b'' if status == 204 else ('status %d from the receiver\n' % status).encode()
        self.send_response(status)
        self.send_header('Content-Length', str(len(text)))
        self.end_headers()
        self.wfile.write(text)

    def log_message(self, *a):
        pass


server = http.server.ThreadingHTTPServer((opts.bind, opts.port), Handler)
server.daemon_threads = True
print('listening', server.server_address[1], flush=True)
server.serve_forever()
