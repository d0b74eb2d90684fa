"""Run the API server emulation as a program: ``python tests/cluster/serve.py OBJECTS.json DIR``.

Serves the objects of OBJECTS.json (a JSON list of manifests) on 127.0.0.1 with a test CA made in
DIR, writes DIR/kubeconfig, prints ``ready`` and serves until its standard input closes. The
benchmark uses it so that the server does not share the measured process.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from apiserver import ApiServer
from kube_tls import make_ca


def main(argv: list[str]) -> int:
    objects_file, directory = Path(argv[0]), Path(argv[1])
    server = ApiServer(make_ca(directory), json.loads(objects_file.read_text(encoding="utf-8"))).start()
    server.write_kubeconfig(directory / "kubeconfig")
    print("ready", flush=True)
    try:
        sys.stdin.read()  # until the parent closes the pipe (or ends)
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
