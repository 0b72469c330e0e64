"""Answers as the simulator's web server for the nginx image does (docs/docker-model.md:
nginx 1.31.3's welcome page, 615 bytes, with nginx's headers; 405 Not Allowed for any method
but GET and HEAD), byte for byte, so that record.sh can show what the real curl prints of
those answers. One connection at a time; HEAD gets the head alone."""
import socket
import sys

VERSION = b"nginx/1.31.3"
DATE = b"Sat, 28 Nov 2026 12:00:00 GMT"
PAGE = b"""<!DOCTYPE html>
<html>
<head>
<title>Welcome to nginx!</title>
<style>
html { color-scheme: light dark; }
body { width: 35em; margin: 0 auto;
font-family: Tahoma, Verdana, Arial, sans-serif; }
</style>
</head>
<body>
<h1>Welcome to nginx!</h1>
<p>If you see this page, the nginx web server is successfully installed and
working. Further configuration is required.</p>

<p>For online documentation and support please refer to
<a href="http://nginx.org/">nginx.org</a>.<br/>
Commercial support is available at
<a href="http://nginx.com/">nginx.com</a>.</p>

<p><em>Thank you for using nginx.</em></p>
</body>
</html>
"""
NOT_ALLOWED = (b"<html>\r\n<head><title>405 Not Allowed</title></head>\r\n<body>\r\n"
               b"<center><h1>405 Not Allowed</h1></center>\r\n<hr><center>" + VERSION
               + b"</center>\r\n</body>\r\n</html>\r\n")


def answer(method):
    if method in (b"GET", b"HEAD"):
        head = (b"HTTP/1.1 200 OK\r\nServer: " + VERSION + b"\r\nDate: " + DATE
                + b"\r\nContent-Type: text/html\r\nContent-Length: 615\r\n"
                b"Last-Modified: Wed, 15 Jul 2026 23:30:55 GMT\r\nConnection: keep-alive\r\n"
                b"ETag: \"6a58182f-267\"\r\nAccept-Ranges: bytes\r\n\r\n")
        return head if method == b"HEAD" else head + PAGE
    return (b"HTTP/1.1 405 Not Allowed\r\nServer: " + VERSION + b"\r\nDate: " + DATE
            + b"\r\nContent-Type: text/html\r\nContent-Length: " + str(len(NOT_ALLOWED)).encode()
            + b"\r\nConnection: keep-alive\r\n\r\n" + NOT_ALLOWED)


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
