#!/usr/bin/env python3
"""An independent oracle for mrsh's record expressions (Sources/MrshPlan/FieldExpression.swift).

Reads JSON from standard input: {"records": [text, ...], "expressions": [FieldExpression as Swift's
synthesized Codable writes it, ...]} and writes, for every expression and every record, either
{"bad": true} or {"text": <the value's text>, "true": <whether it is the boolean true>}.

Python's own arithmetic does the work: unbounded integers (Int64 overflow is checked here), exact
comparisons between ints and floats, bytes comparisons. Records must be valid UTF-8 (len/substr count code
points) without a final-sigma context (str.lower applies one, mrsh does not).
"""
import json
import math
import re
import sys
from decimal import Decimal

INT_MIN, INT_MAX = -(1 << 63), (1 << 63) - 1
NUMBER = re.compile(rb"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")
INTEGER = re.compile(rb"^[+-]?\d+$")
MISSING = None


class Bad(Exception):
    pass


class Text:
    def __init__(self, data, literal=False):
        self.data = data
        self.literal = literal


def parse(data):
    if not NUMBER.match(data):
        return None
    if INTEGER.match(data):
        v = int(data)
        if INT_MIN <= v <= INT_MAX:
            return v
    return float(data)


def fmt(d):
    """Swift's Double.description, as NumericValue.format uses it."""
    if math.isnan(d):
        return "nan"
    if math.isinf(d):
        return "inf" if d > 0 else "-inf"
    if d == math.floor(d) and abs(d) < 9e15:
        return str(int(d))
    sign, digits, exponent = Decimal(repr(d)).as_tuple()
    digits = list(digits)
    while len(digits) > 1 and digits[-1] == 0:
        digits.pop()
        exponent += 1
    s = "".join(map(str, digits))
    x = len(digits) + exponent - 1  # d = s[0].s[1:] x 10^x
    out = "-" if sign else ""
    if x < -4 or abs(d) > 2.0 ** 53:
        out += s[0] + ("." + s[1:] if len(s) > 1 else "")
        return out + "e" + ("-" if x < 0 else "+") + "%02d" % abs(x)
    if x < 0:
        return out + "0." + "0" * (-x - 1) + s
    whole = s[: x + 1].ljust(x + 1, "0")
    fraction = s[x + 1 :] or "0"
    return out + whole + "." + fraction


def text(v):
    if v is MISSING:
        return b""
    if isinstance(v, bool):
        return b"true" if v else b"false"
    if isinstance(v, int):
        return str(v).encode()
    if isinstance(v, float):
        return fmt(v).encode()
    return v.data


def number(v, comparing):
    if v is MISSING or isinstance(v, bool):
        return None
    if isinstance(v, (int, float)):
        return v
    if v.literal and comparing:
        return None
    return parse(v.data)


def compare(op, a, b):
    if a is MISSING or b is MISSING:
        return False
    x, y = number(a, True), number(b, True)
    if x is None or y is None:
        x, y = text(a), text(b)
    return {"==": x == y, "!=": x != y, "<": x < y, "<=": x <= y, ">": x > y, ">=": x >= y}[op]


def int64(v, fallback):
    return v if INT_MIN <= v <= INT_MAX else fallback()


def operand(v):
    n = number(v, False)
    if n is None:
        raise Bad()
    return n


def arithmetic(op, a, b):
    x, y = operand(a), operand(b)
    if isinstance(x, int) and isinstance(y, int) and op != "/":
        if op == "+":
            return int64(x + y, lambda: float(x) + float(y))
        if op == "-":
            return int64(x - y, lambda: float(x) - float(y))
        if op == "*":
            return int64(x * y, lambda: float(x) * float(y))
        if y == 0:
            raise Bad()
        r = abs(x) % abs(y)
        return -r if x < 0 else r
    p, q = float(x), float(y)
    if op == "+":
        return p + q
    if op == "-":
        return p - q
    if op == "*":
        return p * q
    if q == 0:
        raise Bad()
    if op == "/":
        return p / q
    # C's fmod: NaN for an infinite dividend, the dividend for an infinite divisor (math.fmod raises).
    if math.isinf(p) or math.isnan(p) or math.isnan(q):
        return math.nan
    return p if math.isinf(q) else math.fmod(p, q)


def truncate(n):
    if isinstance(n, int):
        return n
    if math.isnan(n) or math.isinf(n):
        return n
    t = math.trunc(n)
    return t if INT_MIN <= t <= INT_MAX else float(t)


def saturate(n):
    """substr's numbers: toward zero, saturated to Int64 (NaN: 0)."""
    if isinstance(n, float):
        if math.isnan(n):
            return 0
        n = math.trunc(max(min(n, 1e19), -1e19))
    return max(min(n, INT_MAX), INT_MIN)


def evaluate(e, record, fields):
    def go(e):
        (kind, body), = e.items()
        args = body if isinstance(body, dict) else {}
        if kind == "field":
            n = args["_0"]
            if n == 0:
                return Text(record)
            return Text(fields[n - 1]) if n <= len(fields) else MISSING
        if kind == "integer":
            return args["_0"]
        if kind == "decimal":
            return float(args["_0"])
        if kind == "string":
            return Text(args["_0"].encode(), literal=True)
        if kind == "boolean":
            return args["_0"]
        if kind == "negate":
            n = operand(go(args["_0"]))
            return int64(-n, lambda: -float(n)) if isinstance(n, int) else -n
        if kind == "not":
            return go(args["_0"]) is not True
        if kind == "arithmetic":
            return arithmetic(args["_0"], go(args["_1"]), go(args["_2"]))
        if kind == "comparison":
            return compare(args["_0"], go(args["_1"]), go(args["_2"]))
        if kind == "and":
            return go(args["_1"]) is True if go(args["_0"]) is True else False
        if kind == "or":
            return True if go(args["_0"]) is True else go(args["_1"]) is True
        if kind == "isIn":
            x = go(args["_0"])
            items = [go(i) for i in args["_1"]]
            if x is MISSING:
                return False
            if args["negated"]:
                return all(compare("!=", x, i) for i in items)
            return any(compare("==", x, i) for i in items)
        if kind == "call":
            name, arguments = args["_0"], args["_1"]
            if name == "if":
                return go(arguments[1]) if go(arguments[0]) is True else go(arguments[2])
            vs = [go(a) for a in arguments]
            if name == "len":
                return len(text(vs[0]).decode())
            if name in ("lower", "upper"):
                s = text(vs[0]).decode()
                return Text((s.upper() if name == "upper" else s.lower()).encode())
            if name == "trim":
                return Text(text(vs[0]).strip(b" \t\r"))
            if name == "substr":
                s = text(vs[0]).decode()
                start, length = saturate(operand(vs[1])), saturate(operand(vs[2]))
                first, last = max(start, 1), min(start + length - 1, len(s))
                return Text(s[first - 1 : last].encode() if last >= first else b"")
            if name == "contains":
                return text(vs[1]) in text(vs[0])
            if name == "startswith":
                return text(vs[0]).startswith(text(vs[1]))
            if name == "endswith":
                return text(vs[0]).endswith(text(vs[1]))
            if name == "int":
                return truncate(operand(vs[0]))
            if name == "num":
                return operand(vs[0])
        raise ValueError("not in the oracle: " + kind)

    return go(e)


def main():
    job = json.load(sys.stdin)
    results = []
    for e in job["expressions"]:
        row = []
        for r in job["records"]:
            record = r.encode()
            try:
                v = evaluate(e, record, record.split(b"\t"))
                row.append({"text": text(v).decode("utf-8", "replace"), "true": v is True})
            except Bad:
                row.append({"bad": True})
        results.append(row)
    json.dump(results, sys.stdout)


if __name__ == "__main__":
    main()
