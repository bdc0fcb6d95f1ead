#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# A bound workload for the VM attack tests: opens its credential, keeps the fd, and hands it to whoever
# connects to its unix socket. "client SOCK" receives such an fd and prints the file through it.
import os
import socket
import sys


def serve(path, sock_path, ready):
    fd = os.open(path, os.O_RDONLY)
    os.read(fd, 64)
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    if os.path.exists(sock_path):
        os.unlink(sock_path)
    srv.bind(sock_path)
    os.chmod(sock_path, 0o777)
    srv.listen(8)
    with open(ready + ".tmp", "w") as f:
        f.write(f"{os.getpid()} {fd}\n")
    os.rename(ready + ".tmp", ready)
    while True:
        conn, _ = srv.accept()
        try:
            socket.send_fds(conn, [b"fd"], [fd])
        except OSError:
            pass
        conn.close()


def client(sock_path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(sock_path)
    _, fds, flags, _ = socket.recv_fds(s, 16, 1)
    if not fds:
        print(f"EACCES: no descriptor received (msg_flags={flags:#x})")
        return 1
    os.lseek(fds[0], 0, os.SEEK_SET)
    print(os.read(fds[0], 64).decode().strip())
    return 0


if __name__ == "__main__":
    if sys.argv[1] == "client":
        sys.exit(client(sys.argv[2]))
    serve(*sys.argv[1:4])
