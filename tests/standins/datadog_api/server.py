"""HTTP server for the Datadog API stand-in (see ../README.md): the app's state (store, clock,
faults, request log), the admin routes under ``/_standin/``, key checks and the HTTP handler.
Each resource kind serves its own routes from its module: monitors.py, dashboards.py,
downtimes.py (v2 downtime schedules), v1_downtimes.py (legacy downtimes and restriction
policies), snapshots.py (graph snapshots and events)."""
from __future__ import annotations

import datetime as dt
import json
import threading
import time
import zlib
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

# each resource kind's module registers its routes on import
from . import dashboards, downtimes, monitors, snapshots, v1_downtimes  # noqa: F401
from .routing import ROUTES, route
from .store import Store
from .validation import ApiError

WRITE_METHODS = ("POST", "PUT", "PATCH", "DELETE")
API_KEY_ONLY = ("/api/v1/validate", "/api/v1/events")


# =========================================================================== app state

class App:
    """Everything behind the HTTP layer: store, clock, faults, request log."""

    def __init__(self, state_dir, clock_offset_days=None, api_key=None, app_key=None):
        self.state_dir = Path(state_dir)
        self.store = Store(self.state_dir)
        if clock_offset_days is not None:
            self.store.set_setting("clock_offset_days", float(clock_offset_days))
        self.api_key, self.app_key = api_key, app_key
        self.faults: list[dict] = []
        self.lock = threading.RLock()
        self.log_path = self.state_dir / "requests.jsonl"
        self.entries: list[dict] = []
        self.counters: Counter = Counter()

    # -- clock
    @property
    def clock_offset_days(self) -> float:
        return float(self.store.get_setting("clock_offset_days", 0.0))

    def set_clock_offset(self, days: float) -> None:
        """Real time shifted by ``days`` (and no longer frozen)."""
        self.store.set_setting("clock_now", None)
        self.store.set_setting("clock_offset_days", float(days))

    def set_clock(self, instant: dt.datetime | None) -> None:
        """Freeze the clock at an aware ``instant`` (as the provider's tests freeze theirs at the
        cassette's ``.freeze`` time); ``None`` goes back to real time plus the offset."""
        if instant is not None and instant.utcoffset() is None:
            raise ValueError("the stand-in clock needs an aware datetime (with a timezone)")
        self.store.set_setting("clock_now", instant.isoformat() if instant else None)

    def now(self) -> dt.datetime:
        frozen = self.store.get_setting("clock_now")
        if frozen:
            return dt.datetime.fromisoformat(frozen).astimezone(dt.timezone.utc)
        return dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=self.clock_offset_days)

    # -- request log
    def record(self, entry: dict) -> None:
        with self.lock:
            self.entries.append(entry)
            self.counters[entry["method"]] += 1
            self.counters[f"status:{entry['status']}"] += 1
            if entry["method"] in WRITE_METHODS and entry["path"].startswith("/api/"):
                self.counters["writes"] += 1
                if entry["status"] < 400:
                    self.counters["writes_ok"] += 1
            if entry.get("fault"):
                self.counters["faults_injected"] += 1
            with open(self.log_path, "a", encoding="utf-8") as f:
                f.write(json.dumps(entry, sort_keys=True) + "\n")

    def stats(self) -> dict:
        with self.lock:
            return dict(self.counters)

    # -- faults
    def add_fault(self, spec: dict) -> dict:
        status = int(spec.get("status", 503))
        if status not in (429, 500, 502, 503, 504):
            raise ApiError(400, "fault status must be one of 429, 500, 502, 503, 504")
        fault = {"status": status, "count": int(spec.get("count", 1)),
                 "retry_after": int(spec.get("retry_after", 1)),
                 "path_prefix": str(spec.get("path_prefix", "/api/")),
                 "method": (spec.get("method") or "").upper() or None}
        with self.lock:
            self.faults.append(fault)
        return fault

    def take_fault(self, method: str, path: str):
        with self.lock:
            for f in self.faults:
                if f["count"] > 0 and path.startswith(f["path_prefix"]) and (f["method"] in (None, method)):
                    f["count"] -= 1
                    if f["count"] == 0:
                        self.faults.remove(f)
                    return dict(f)
        return None


# ---------------------------------------------------------------- key validation (the handler checks the key)

@route("GET", r"/api/v1/validate")
def h_validate(app, req, m):
    return 200, {"valid": True}


# ---------------------------------------------------------------- admin API (no keys needed)

@route("GET", r"/_standin/health")
def a_health(app, req, m):
    return 200, {"ok": True, "clock_offset_days": app.clock_offset_days, "now": app.now().isoformat()}


@route("GET", r"/_standin/objects")
def a_objects(app, req, m):
    return 200, app.store.all()


@route("GET", r"/_standin/log")
def a_log(app, req, m):
    with app.lock:
        return 200, {"requests": list(app.entries), "stats": dict(app.counters)}


@route("GET", r"/_standin/stats")
def a_stats(app, req, m):
    return 200, app.stats()


@route("GET", r"/_standin/faults")
def a_faults_list(app, req, m):
    with app.lock:
        return 200, {"faults": [dict(f) for f in app.faults]}


@route("POST", r"/_standin/faults")
def a_faults_add(app, req, m):
    return 200, {"fault": app.add_fault(req.json() or {})}


@route("DELETE", r"/_standin/faults")
def a_faults_clear(app, req, m):
    with app.lock:
        app.faults.clear()
    return 200, {"faults": []}


def _clock_view(app):
    return {"offset_days": app.clock_offset_days, "frozen": bool(app.store.get_setting("clock_now")),
            "now": app.now().isoformat()}


@route("GET", r"/_standin/clock")
def a_clock_get(app, req, m):
    return 200, _clock_view(app)


@route("POST", r"/_standin/clock")
def a_clock_set(app, req, m):
    body = req.json() or {}
    if "now" in body:
        try:
            app.set_clock(dt.datetime.fromisoformat(body["now"].replace("Z", "+00:00")) if body["now"] else None)
        except (AttributeError, ValueError) as e:
            raise ApiError(400, f"now: {e}") from None
    elif "offset_days" in body:
        app.set_clock_offset(float(body["offset_days"]))
    else:
        raise ApiError(400, "now (an ISO-8601 instant with offset, or null) or offset_days is required")
    return 200, _clock_view(app)


@route("POST", r"/_standin/reset")
def a_reset(app, req, m):
    app.store.reset()
    with app.lock:
        app.faults.clear()
        app.entries.clear()
        app.counters.clear()
    return 200, {"reset": True}


class _Req:
    def __init__(self, handler, body: bytes, query: dict):
        self.handler, self.body, self.query = handler, body, query

    def json(self):
        if not self.body:
            return None
        try:
            return json.loads(self.body)
        except ValueError as e:
            raise ApiError(400, f"Invalid JSON body: {e}") from None


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "datadog-api-standin/1"
    app: App = None  # set per server class

    def log_message(self, fmt, *args):  # silence stderr access log (we keep our own JSONL log)
        pass

    def _send(self, status: int, payload, headers=None):
        data = b"" if payload is None or status == 204 else json.dumps(payload).encode()
        self.send_response(status)
        if status != 204:
            self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, val in (headers or {}).items():
            self.send_header(k, str(val))
        self.end_headers()
        if data:
            self.wfile.write(data)

    def _handle(self, method: str):
        t0 = time.monotonic()
        parts = urlsplit(self.path)
        path = parts.path.rstrip("/") or "/"
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        encoding = (self.headers.get("Content-Encoding") or "").lower()
        if body and encoding in ("gzip", "deflate"):  # the Go client can compress request bodies
            body = zlib.decompress(body, 16 + zlib.MAX_WBITS if encoding == "gzip" else zlib.MAX_WBITS)
        entry = {"ts": dt.datetime.now(dt.timezone.utc).isoformat(), "method": method, "path": path,
                 "query": {k: vs for k, vs in parse_qs(parts.query).items()}, "status": None}
        app = self.app
        headers = {}
        try:
            if path.startswith("/api/"):
                api_key = self.headers.get("DD-API-KEY")
                app_key = self.headers.get("DD-APPLICATION-KEY")
                # GET /api/v1/validate checks the API key alone: the provider sends only DD-API-KEY
                # there (https://docs.datadoghq.com/api/latest/authentication/#validate-api-key);
                # so does datadog-api-client's create_event (see snapshots.py)
                needs_app_key = path not in API_KEY_ONLY
                if not api_key or (needs_app_key and not app_key):
                    raise ApiError(403, "Forbidden")
                if (app.api_key and api_key != app.api_key) or \
                        (needs_app_key and app.app_key and app_key != app.app_key):
                    raise ApiError(403, "Forbidden")
                fault = app.take_fault(method, path)
                if fault:
                    entry["fault"] = True
                    if fault["status"] == 429:
                        ra = fault["retry_after"]
                        headers = {"Retry-After": ra, "X-RateLimit-Limit": 100, "X-RateLimit-Period": 10,
                                   "X-RateLimit-Remaining": 0, "X-RateLimit-Reset": ra,
                                   "X-RateLimit-Name": "standin_" + path.split("/")[3] if path.count("/") >= 3 else "standin"}
                        raise ApiError(429, "Rate limit exceeded")
                    raise ApiError(fault["status"], {500: "Internal Server Error", 502: "Bad Gateway",
                                                     503: "Service Unavailable", 504: "Gateway Timeout"}[fault["status"]])
            for rmethod, rx, fn in ROUTES:
                mm = rx.match(path)
                if mm and rmethod == method:
                    status, payload = fn(app, _Req(self, body, entry["query"]), mm)
                    break
            else:
                entry["unhandled"] = True
                raise ApiError(404, f"Not found: {method} {path} (not served by the stand-in)")
        except ApiError as e:
            status, payload = e.status, {"errors": e.messages}
        except Exception as e:  # a stand-in bug: make it loud, as a 500 in Datadog's shape
            status, payload = 500, {"errors": [f"stand-in internal error: {type(e).__name__}: {e}"]}
            entry["exception"] = repr(e)
        entry["status"] = status
        if status >= 400 and isinstance(payload, dict):
            entry["errors"] = payload.get("errors")
        entry["duration_ms"] = round((time.monotonic() - t0) * 1000, 2)
        if not path.startswith("/_standin/"):
            app.record(entry)  # before answering, so a client that got its answer sees it logged
        self._send(status, payload, headers)

    def do_GET(self):
        self._handle("GET")

    def do_POST(self):
        self._handle("POST")

    def do_PUT(self):
        self._handle("PUT")

    def do_PATCH(self):
        self._handle("PATCH")

    def do_DELETE(self):
        self._handle("DELETE")


class StandinHandle:
    """A running stand-in: ``.url``, ``.port``, ``.stop()``, request-log accessors."""

    def __init__(self, server: ThreadingHTTPServer, thread: threading.Thread, app: App):
        self.server, self.thread, self.app = server, thread, app
        self.port = server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"

    def requests(self) -> list[dict]:
        with self.app.lock:
            return [dict(e) for e in self.app.entries]

    def count(self, method=None, path_prefix=None, status=None, writes_only=False) -> int:
        n = 0
        for e in self.requests():
            if method and e["method"] != method:
                continue
            if path_prefix and not e["path"].startswith(path_prefix):
                continue
            if status is not None and e["status"] != status:
                continue
            if writes_only and e["method"] not in WRITE_METHODS:
                continue
            n += 1
        return n

    def writes(self, path_prefix="/api/") -> int:
        return self.count(path_prefix=path_prefix, writes_only=True)

    def stats(self) -> dict:
        return self.app.stats()

    def objects(self) -> dict:
        return self.app.store.all()

    def set_clock_offset(self, days: float) -> None:
        self.app.set_clock_offset(days)

    def set_clock(self, instant: dt.datetime | None) -> None:
        self.app.set_clock(instant)

    def add_fault(self, **spec) -> dict:
        return self.app.add_fault(spec)

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


def make_server(port: int, state_dir, clock_offset=None, api_key=None, app_key=None, host="127.0.0.1"):
    app = App(state_dir, clock_offset_days=clock_offset, api_key=api_key, app_key=app_key)
    handler = type("BoundHandler", (Handler,), {"app": app})
    server = ThreadingHTTPServer((host, port), handler)
    server.daemon_threads = True
    return server, app


def start_server(port: int = 0, state_dir=".", clock_offset=None, api_key=None, app_key=None) -> StandinHandle:
    """Start the stand-in in a background thread (port 0 = a free port) and return its handle."""
    server, app = make_server(port, state_dir, clock_offset, api_key, app_key)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, name=f"dd-standin-{server.server_address[1]}", daemon=True)
    thread.start()
    return StandinHandle(server, thread, app)
