#!/usr/bin/python3
"""A minimal SOCKS5 proxy for the tests (RFC 1928: no authentication, CONNECT only), standing in
for Tor's SocksPort. It listens on 127.0.0.1 (port 0), prints "listening PORT" once, appends
each CONNECT target ("host:port") to the log file, relays bytes both ways, and only ever
connects to 127.0.0.1: any name (an .onion, say) is resolved to loopback, as the tests use.

    socks5.py LOG
"""
import socket, struct, sys, threading


def relay(a, b):
    try:
        while True:
            data = a.recv(65536)
            if not data:
                break
            b.sendall(data)
    except OSError:
        pass
    finally:
        for s in (a, b):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def handle(c, log):
    try:
        ver, n = c.recv(2)
        c.recv(n)
        c.sendall(b"\x05\x00")
        ver, cmd, _, atyp = c.recv(4)
        if atyp == 1:
            host = socket.inet_ntoa(c.recv(4))
        elif atyp == 3:
            host = c.recv(c.recv(1)[0]).decode()
        else:
            host = socket.inet_ntop(socket.AF_INET6, c.recv(16))
        port = struct.unpack(">H", c.recv(2))[0]
        with open(log, "a") as f:
            f.write(f"{host}:{port}\n")
        up = socket.create_connection(("127.0.0.1", port))
        c.sendall(b"\x05\x00\x00\x01" + socket.inet_aton("127.0.0.1") + struct.pack(">H", port))
        threading.Thread(target=relay, args=(c, up), daemon=True).start()
        relay(up, c)
    except (OSError, ValueError, IndexError):
        c.close()


def main():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(64)
    print("listening", s.getsockname()[1], flush=True)
    while True:
        c, _ = s.accept()
        threading.Thread(target=handle, args=(c, sys.argv[1]), daemon=True).start()


if __name__ == "__main__":
    main()
