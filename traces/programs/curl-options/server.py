"""Answers as the simulator's HTTP server does (the tutorial webapp's Apache, 45-byte page;
405 for any method but GET, HEAD and POST), byte for byte, so that record.sh can show what
the real curl prints of those answers. One connection at a time; HEAD gets the head alone."""
import socket
import sys

HEAD = (b"Date: Sat, 28 Nov 2026 12:00:00 GMT\r\nServer: Apache/2.4.7 (Ubuntu)\r\n"
        b"X-Powered-By: PHP/5.5.9-1ubuntu4.29\r\n")
PAGE = b"<html><body><h1>It works!</h1></body></html>\n"


def answer(method):
    if method in (b"GET", b"HEAD"):
        status, body = b"200 OK", PAGE
    else:
        status, body = b"405 Method Not Allowed", b"Method Not Allowed"
    head = (b"HTTP/1.1 " + status + b"\r\n" + HEAD + b"Content-Length: " + str(len(body)).encode()
            + b"\r\nContent-Type: text/html\r\n\r\n")
    return head if method == b"HEAD" else head + body


s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen()
while True:
    c, _ = s.accept()
    req = b""
    while b"\r\n\r\n" not in req:
        chunk = c.recv(4096)
        if not chunk:
            break
        req += chunk
    if req:
        c.sendall(answer(req.split(b" ", 1)[0]))
    c.close()
