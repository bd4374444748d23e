#!/usr/bin/python3
"""A tiny HTTPS server for the diagnose network test: answers every GET with
200 and a short body (and, as every HTTP/1.1 server should, a Date header).
  https_server.py CERT_CHAIN KEY PORT_FILE
Listens on 127.0.0.1 on a free port and writes the port to PORT_FILE."""
import http.server
import ssl
import sys


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        body = b"reference\n"
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


srv = http.server.HTTPServer(("127.0.0.1", 0), Handler)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(sys.argv[1], sys.argv[2])
srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
with open(sys.argv[3] + ".tmp", "w") as f:
    f.write(str(srv.server_address[1]))
import os
os.rename(sys.argv[3] + ".tmp", sys.argv[3])
srv.serve_forever()
