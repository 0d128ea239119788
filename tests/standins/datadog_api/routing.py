"""The route table the stand-in's HTTP handler dispatches on: (method, compiled path regex, handler)."""
import re

ROUTES = []


def route(method, pattern):
    rx = re.compile("^" + pattern + "$")

    def deco(fn):
        ROUTES.append((method, rx, fn))
        return fn
    return deco
