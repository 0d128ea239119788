"""python -m tests.standins.datadog_api --port N --state-dir DIR [--clock-offset-days D]"""
import argparse
import signal
import sys

from .server import make_server


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m tests.standins.datadog_api", description=__doc__)
    p.add_argument("--port", type=int, required=True, help="TCP port on 127.0.0.1 (0 = any free port)")
    p.add_argument("--state-dir", required=True, help="directory for store.json and requests.jsonl")
    p.add_argument("--clock-offset-days", type=float, default=None,
                   help="shift the stand-in's clock (default: keep the persisted offset, initially 0)")
    p.add_argument("--api-key", default=None, help="if set, DD-API-KEY must equal this (else any non-empty key)")
    p.add_argument("--app-key", default=None, help="if set, DD-APPLICATION-KEY must equal this")
    args = p.parse_args(argv)
    server, app = make_server(args.port, args.state_dir, args.clock_offset_days, args.api_key, args.app_key)

    def _term(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _term)
    print(f"datadog-api-standin listening on http://127.0.0.1:{server.server_address[1]} "
          f"state_dir={args.state_dir} clock_offset_days={app.clock_offset_days}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
