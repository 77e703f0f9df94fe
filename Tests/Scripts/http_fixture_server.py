#!/usr/bin/env python3
"""A static HTTP server for the validator's remote tests, with a few misbehaving routes.

Usage: http_fixture_server.py <root-dir>
Prints the port it listens on (127.0.0.1, chosen by the kernel) as its first line.

Routes besides the files under <root-dir> (which ignore Range and answer 200 in full):
  /moved/<path>    302 to /<path> (relative URIs must resolve against the final URL)
  /loop            302 to itself
  /status/<code>   answers <code> with an empty body
  /slow            sends headers, then nothing for 60 s
  /endless.m3u8    a playlist that never ends (size limits)
  POST /report/<name>  stores the request body as <root>/<name>.report.json (written whole, then
                   renamed into place): how the browser tests' page hands back its results
"""
import http.server
import os
import re
import socketserver
import sys
import threading
import time


class Handler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_GET(self):
        path = self.path.split("?", 1)[0]
        if path.startswith("/moved/"):
            self.redirect(path[len("/moved"):])
        elif path == "/loop":
            self.redirect("/loop")
        elif path.startswith("/status/"):
            self.send_response(int(path.rsplit("/", 1)[1]))
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif path == "/slow":
            self.send_response(200)
            self.send_header("Content-Length", "100")
            self.end_headers()
            self.wfile.flush()
            time.sleep(60)
        elif path == "/endless.m3u8":
            self.send_response(200)
            self.send_header("Content-Type", "application/vnd.apple.mpegurl")
            self.end_headers()
            try:
                self.wfile.write(b"#EXTM3U\n#EXT-X-TARGETDURATION:6\n")
                line = b"#EXTINF:6,\nsegment.ts\n" * 4096
                while True:
                    self.wfile.write(line)
            except (BrokenPipeError, ConnectionResetError):
                pass
        else:
            super().do_GET()

    def do_POST(self):
        name = self.path.split("?", 1)[0][len("/report/"):] if self.path.startswith("/report/") else ""
        if not re.fullmatch(r"[A-Za-z0-9_-]+", name):
            self.send_error(404)
            return
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        with open(name + ".report.part", "wb") as part:
            part.write(body)
        os.replace(name + ".report.part", name + ".report.json")
        self.send_response(204)
        self.end_headers()

    def do_HEAD(self):
        if self.path.startswith("/status/"):
            self.do_GET()
        else:
            super().do_HEAD()

    def redirect(self, target):
        self.send_response(302)
        self.send_header("Location", target)
        self.send_header("Content-Length", "0")
        self.end_headers()


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


if __name__ == "__main__":
    os.chdir(sys.argv[1])
    server = Server(("127.0.0.1", 0), Handler)
    print(server.server_address[1], flush=True)
    # Exit when the test process goes away (its end of our stdin closes).
    threading.Thread(target=lambda: (sys.stdin.read(), os._exit(0)), daemon=True).start()
    server.serve_forever()
