"""Regenerate the committed protobuf modules from protos/.

Usage: python tools/gen_protos.py [OUT_DIR]

OUT_DIR defaults to the repository root, so stigmer/api/v1/*_pb2.py(i) are
rewritten in place. The freshness test passes a temporary directory and
compares. Needs the pinned grpcio-tools (the dev extra).
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROTO_DIR = ROOT / "protos"


def proto_files() -> list[Path]:
    return sorted((PROTO_DIR / "stigmer" / "api" / "v1").glob("*.proto"))


def generate(out_dir: Path) -> list[Path]:
    """Runs protoc for every .proto; returns the files it wrote."""
    import grpc_tools
    from grpc_tools import protoc

    include = Path(grpc_tools.__file__).parent / "_proto"
    sources = [str(p.relative_to(PROTO_DIR)) for p in proto_files()]
    args = [
        "protoc",
        f"-I{PROTO_DIR}",
        f"-I{include}",
        f"--python_out={out_dir}",
        f"--pyi_out={out_dir}",
        *sources,
    ]
    if protoc.main(args) != 0:
        raise SystemExit("protoc failed")
    written = []
    for src in sources:
        stem = Path(src).with_suffix("")
        written += [out_dir / f"{stem}_pb2.py", out_dir / f"{stem}_pb2.pyi"]
    return written


def main() -> None:
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT
    for path in generate(out):
        print(path.relative_to(out))


if __name__ == "__main__":
    main()
