"""The hiring exercise's Flask app, instrumented by `ddtrace-run` (no middleware, no patching).

Run it as `ddtrace-run gunicorn --bind 127.0.0.1:5050 app:app` (the seed ran Flask's
development server on every interface): ddtrace-run patches Flask before gunicorn's
workers import this module, so every request gets a `flask.request` root span
(resource `GET <route>`).
Each route adds its own tag to that span. The seed's version called the non-existent
`tracer.current_space()` and returned only inside the `if`; here the tag is set when a
span exists and the route always answers.

Configuration comes from the environment: the DD_* variables that ddtrace reads
(DD_SERVICE, DD_ENV, DD_VERSION, DD_TRACE_AGENT_URL, DD_LOGS_INJECTION).
"""
import logging
import sys

from ddtrace.trace import tracer
from flask import Flask, request

# Have flask use stdout as the logger (as in the supplied app), with the trace
# correlation ids that DD_LOGS_INJECTION=true puts on every record, so a log line
# links to its trace in Datadog.
DD_FIELDS = ('dd.service', 'dd.env', 'dd.version', 'dd.trace_id', 'dd.span_id')


class DefaultTraceFields(logging.Filter):
    """Blank dd.* fields when ddtrace did not set them (plain `python app.py`)."""

    def filter(self, record):
        for field in DD_FIELDS:
            if not hasattr(record, field):
                setattr(record, field, '')
        return True


main_logger = logging.getLogger()
main_logger.setLevel(logging.DEBUG)
c = logging.StreamHandler(sys.stdout)
formatter = logging.Formatter(
    '%(asctime)s - %(name)s - %(levelname)s - %(message)s'
    ' [dd.service=%(dd.service)s dd.env=%(dd.env)s dd.version=%(dd.version)s'
    ' dd.trace_id=%(dd.trace_id)s dd.span_id=%(dd.span_id)s]')
c.setFormatter(formatter)
c.addFilter(DefaultTraceFields())
main_logger.addHandler(c)
# The root logger stays at DEBUG for the app and Flask; ddtrace's own DEBUG output
# (every finished span, twice) would flood the journal.
logging.getLogger('ddtrace').setLevel(logging.WARNING)

app = Flask(__name__)


def tag_request_span(tag: str) -> None:
    """Set `tag: "true"` on this request's `flask.request` span, the trace's local root.

    Measured with the pinned ddtrace (4.16.0) under ddtrace-run: inside a view,
    `tracer.current_span()` is the view function's own child span (name
    `app.apm_endpoint`, resource `/api/apm`), not `flask.request`; the request span,
    which carries the service, the resource `GET /api/apm` and the trace metrics,
    is `tracer.current_root_span()`.
    """
    span = tracer.current_root_span()
    if span is not None:
        span.set_tag(tag, 'true')


@app.after_request
def log_request(response):
    """One line per request, written inside its span so it carries the trace's ids.

    Flask's development server logged each request through `werkzeug`; gunicorn writes
    its access log outside Python's logging and after the request span has ended.
    """
    app.logger.info('%s %s %s', request.method, request.path, response.status_code)
    return response


@app.route('/')
def api_entry():
    tag_request_span('from_entry_route')
    return 'Entrypoint to the Application'


@app.route('/api/apm')
def apm_endpoint():
    tag_request_span('from_apm_route')
    return 'Getting APM Started'


@app.route('/api/trace')
def trace_endpoint():
    tag_request_span('from_trace_route')
    return 'Posting Traces'

