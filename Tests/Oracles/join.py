#!/usr/bin/env python3
"""Oracle of a shuffle or broadcast join on plain fields: join.py LEFT RIGHT LEFTKEY RIGHTKEY inner|left
RIGHTFIELDCOUNT [digest], LEFT and RIGHT glob patterns. Prints every output record in hex, one a line, in the
broadcast join's order (left records in input order, each followed by its matches in right order: the
broadcast tests rely on it, the shuffle tests sort); with `digest`, only the number of records and the sum of their CRC-32s modulo 2^64. Records are lines (a trailing CR dropped, a last line without LF kept); fields split at
TAB; a key is a field's bytes, and an empty or missing key matches nothing. The output of a match is the
left record, then a TAB and each right field but the key field; an unmatched left record of a left join is
followed by RIGHTFIELDCOUNT TABs."""
import glob
import sys
import zlib


def records(pattern):
    out = []
    for name in sorted(glob.glob(pattern)):
        with open(name, 'rb') as f:
            data = f.read()
        lines = data.split(b'\n')
        if lines and lines[-1] == b'':
            lines.pop()
        out += [line[:-1] if line.endswith(b'\r') else line for line in lines]
    return out


def field(record, n):
    fields = record.split(b'\t')
    return fields[n - 1] if n <= len(fields) else b''


def main():
    left, right, left_key, right_key, kind, right_field_count = sys.argv[1:7]
    left_key, right_key, right_field_count = int(left_key), int(right_key), int(right_field_count)
    table = {}
    for record in records(right):
        key = field(record, right_key)
        if key == b'':
            continue
        fields = record.split(b'\t')
        rest = b''.join(b'\t' + f for i, f in enumerate(fields) if i != right_key - 1)
        table.setdefault(key, []).append(rest)
    digest = len(sys.argv) > 7 and sys.argv[7] == 'digest'
    count, total = 0, 0
    out = sys.stdout
    for record in records(left):
        key = field(record, left_key)
        matches = table.get(key, []) if key != b'' else []
        outputs = [record + rest for rest in matches]
        if not matches and kind == 'left':
            outputs = [record + b'\t' * right_field_count]
        for line in outputs:
            if digest:
                count += 1
                total += zlib.crc32(line)
            else:
                out.write(line.hex() + '\n')
    if digest:
        out.write('%d %d\n' % (count, total % (1 << 64)))


main()
