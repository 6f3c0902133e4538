"""A misbehaving server on 127.0.0.1 for daskctl's fault tests: a Python process listening on a
port, as a Dask scheduler would be, that answers the way MODE says. daskctl finds it in /proc
like any other Python process of the user and probes it.

Usage: fault_server.py MODE PORT_FILE [tag words...]
The tag words only change the command line (e.g. "dask scheduler" makes it look like one).

Frames follow distributed/comm/tcp.py: u64 nosplit, u64 n_frames, u64 lengths..., frames.
"""

import os
import socket
import struct
import sys
import threading
import time

import msgpack

MODE = sys.argv[1]
PORT_FILE = sys.argv[2]

GREETING = {"compression": None, "python": (3, 11, 0), "pickle-protocol": 5}


def frame(obj):
    body = msgpack.packb(obj, use_bin_type=True)
    return struct.pack("<QQQ", 16 + len(body), 1, len(body)) + body


def read_exact(conn, n):
    buf = b""
    while len(buf) < n:
        chunk = conn.recv(n - len(buf))
        if not chunk:
            raise EOFError
        buf += chunk
    return buf


def read_message(conn):
    nosplit = struct.unpack("<Q", read_exact(conn, 8))[0]
    data = read_exact(conn, nosplit)
    n = struct.unpack("<Q", data[:8])[0]
    lengths = struct.unpack("<%dQ" % n, data[8 : 8 + 8 * n])
    body = data[8 + 8 * n : 8 + 8 * n + lengths[0]]
    return msgpack.unpackb(body, raw=False)


def scheduler_reply(op, started, idle):
    if op == "identity":
        return {
            "type": "Scheduler",
            "id": "Scheduler-fault",
            "address": "tcp://127.0.0.1:%d" % PORT,
            "services": {"dashboard": 70000},
            "started": started,
            "workers": {
                "tcp://127.0.0.1:1": {
                    "name": "w",
                    "nthreads": 2**64 - 1,
                    "memory_limit": -5,
                    "status": "running",
                }
            },
            "n_workers": 1,
            "total_threads": 2**64 - 1,
            "total_memory": 2**64 - 1,
        }
    if op == "check_idle":
        return idle
    return {"status": "OK"}


def speak_dask(conn, started, idle):
    conn.sendall(frame(GREETING))
    read_message(conn)  # the client's half of the handshake
    while True:
        msg = read_message(conn)
        if not msg.get("reply", True):
            return
        conn.sendall(frame(scheduler_reply(msg.get("op"), started, idle)))


def serve(conn):
    try:
        if MODE == "silent":
            time.sleep(3600)
        elif MODE == "garbage":
            conn.sendall(b"\xde\xad\xbe\xef" * 64)
            time.sleep(3600)
        elif MODE == "huge-header":
            conn.sendall(struct.pack("<Q", 2**60))
            time.sleep(3600)
        elif MODE == "wrapping-lengths":
            # a plausible block whose two frame lengths add up past 2^64
            conn.sendall(struct.pack("<QQQQ", 24, 2, 2**64 - 1, 2))
            time.sleep(3600)
        elif MODE == "truncated-msgpack":
            body = msgpack.packb(GREETING)[:5]
            conn.sendall(struct.pack("<QQQ", 16 + len(body), 1, len(body)) + body)
            time.sleep(3600)
        elif MODE == "bad-msgpack":
            body = b"\xc1\xc1\xc1\xc1"  # 0xc1 is never used in msgpack
            conn.sendall(struct.pack("<QQQ", 16 + len(body), 1, len(body)) + body)
            time.sleep(3600)
        elif MODE == "deep-msgpack":
            body = b"\x91" * 100000 + b"\xc0"  # arrays nested 100,000 deep
            conn.sendall(struct.pack("<QQQ", 16 + len(body), 1, len(body)) + body)
            time.sleep(3600)
        elif MODE == "http":
            conn.recv(1024)
            conn.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
        elif MODE == "close":
            pass
        elif MODE == "one-byte-per-second":
            for b in frame(GREETING):
                conn.sendall(bytes([b]))
                time.sleep(1)
        elif MODE == "absurd-times":
            speak_dask(conn, 1e300, 1e300)
        elif MODE == "huge-times":
            speak_dask(conn, 9.3e18, 2.0**63)
        elif MODE == "not-a-map":
            conn.sendall(frame(GREETING))
            read_message(conn)
            read_message(conn)
            conn.sendall(frame(["Scheduler", 1, 2]))
            time.sleep(3600)
        else:
            raise SystemExit("unknown mode " + MODE)
    except (EOFError, OSError):
        pass
    finally:
        try:
            conn.close()
        except OSError:
            pass


sock = socket.socket()
sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
sock.bind(("127.0.0.1", 0))
sock.listen(64)
PORT = sock.getsockname()[1]
with open(PORT_FILE + ".tmp", "w") as f:
    f.write(str(PORT))
os.rename(PORT_FILE + ".tmp", PORT_FILE)
while True:
    c, _ = sock.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
