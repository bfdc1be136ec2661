#!/usr/bin/env python3
"""Clients for the EchoServer example, and the check of what it recorded.

    clients.py run PORT CLIENTS SEED > expected.json
        CLIENTS concurrent connections to 127.0.0.1:PORT, each sending a
        seeded number of messages of seeded sizes and reading every echo
        back. Prints, per client, the label the server counts it under
        ("127.0.0.1:LOCALPORT") and [tx, rx] as the server sees them: what
        the server sent (the client received) and what it received (the
        client sent), counted here from the socket calls.

    clients.py check expected.json EVENTS.jsonl
        Sums each label's [tx, rx] over the JSON lines and exits 1 unless
        the labels and totals are exactly the expected ones.
"""
import json
import random
import socket
import sys
import threading


def one_client(port, rng, results, index):
    with socket.create_connection(("127.0.0.1", port)) as connection:
        host, local_port = connection.getsockname()[:2]
        sent = received = 0
        for _ in range(rng.randint(5, 40)):
            message = rng.randbytes(rng.randint(1, 20_000))
            connection.sendall(message)
            sent += len(message)
            echoed = b""
            while len(echoed) < len(message):
                chunk = connection.recv(65536)
                if not chunk:
                    raise SystemExit(f"client {index}: the server closed the connection")
                echoed += chunk
            if echoed != message:
                raise SystemExit(f"client {index}: the echo differs from what was sent")
            received += len(echoed)
        results[index] = (f"{host}:{local_port}", [received, sent])


def run(port, clients, seed):
    results = [None] * clients
    errors = []

    def guarded(index, rng):
        try:
            one_client(port, rng, results, index)
        except BaseException as error:  # reported below, not lost in a thread
            errors.append(f"{error}")

    threads = [threading.Thread(target=guarded, args=(index, random.Random(seed * 1000 + index)))
               for index in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        sys.exit("clients.py: " + "; ".join(errors))
    json.dump(dict(results), sys.stdout, indent=1, sort_keys=True)
    print()


def check(expected_path, events_path):
    with open(expected_path) as file:
        expected = json.load(file)
    totals = {}
    with open(events_path) as file:
        for number, line in enumerate(file, 1):
            try:
                labels = json.loads(line)["s"]
            except (ValueError, KeyError) as error:
                sys.exit(f"clients.py: {events_path}:{number}: not a sockstat event ({error})")
            for label, (tx, rx) in labels.items():
                total = totals.setdefault(label, [0, 0])
                total[0] += tx
                total[1] += rx
    if totals != expected:
        for label in sorted(set(totals) | set(expected)):
            if totals.get(label) != expected.get(label):
                print(f"clients.py: {label}: recorded {totals.get(label)}, expected {expected.get(label)}",
                      file=sys.stderr)
        sys.exit(f"clients.py: {events_path} does not hold the clients' totals")
    print(f"{events_path}: {len(totals)} clients, tx {sum(t for t, _ in totals.values())}, "
          f"rx {sum(r for _, r in totals.values())} bytes, as the clients counted")


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "run":
        run(int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]))
    elif len(sys.argv) == 4 and sys.argv[1] == "check":
        check(sys.argv[2], sys.argv[3])
    else:
        sys.exit(__doc__)
