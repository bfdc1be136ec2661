#!/usr/bin/env python3
"""Writes the hand-made segment-reader seeds, which a fuzzer would not reach
by mutation: at the limits (Spec/FORMAT.md), events with 1,024 labels (the
limit) and 1,025 (one past), and labels of 1,024 and 1,025 bytes, each block
deflated and framed after a valid header; a payload that fails after an
event was decoded; an input FuzzChecks' hash selects for the linear-work
check. Run from the repository root: python3 Fuzz/make-seeds.py"""
import struct
import zlib

MAGIC = bytes([0x89, 0x53, 0x53, 0x4C, 0x0D, 0x0A, 0x1A, 0x0A])
MARKER = bytes([0xB5, 0x0C, 0x4B, 0x1D])


def varint(value):
    out = bytearray()
    while value >= 0x80:
        out.append(value & 0x7F | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def record(kind, body):
    return varint(len(body) << 3 | kind) + body


def segment(sequence, payload):
    header = MAGIC + struct.pack("<HHIIQq", 1, 40, 0, 0, sequence, 1_764_288_339_865)
    header += struct.pack("<I", zlib.crc32(header))
    compressor = zlib.compressobj(6, zlib.DEFLATED, -15)
    stored = compressor.compress(payload) + compressor.flush()
    return header + frame(stored)


def frame(stored):
    """A block frame (Spec/FORMAT.md section 5): marker, length, CRC-32 of the
    stored bytes, header check (CRC-32 of the frame's first 12 bytes)."""
    head = MARKER + struct.pack("<II", len(stored), zlib.crc32(stored))
    return head + struct.pack("<I", zlib.crc32(head)) + stored


def labels_per_event(count, sequence=7):
    payload = varint(sequence) + varint(0) + varint(2 * 1_764_288_339_865)  # zigzag of t
    for label_id in range(count):
        payload += record(1, varint(label_id) + str(label_id).encode())
    entries = b"".join(varint(label_id) + varint(1) + varint(2) for label_id in range(count))
    payload += record(2, varint(0) + varint(200) + entries)  # gap 0 stored, d = 100
    return segment(sequence, payload)


def label_bytes(length, sequence=8):
    payload = varint(sequence) + varint(0) + varint(2 * 1_764_288_339_865)
    payload += record(1, varint(0) + b"x" * length)
    payload += record(4, varint(200) + varint(0) + varint(5) + varint(6))
    return segment(sequence, payload)


def half_decoded_payload():
    """A payload (the checks read every input as one too) that fails after
    a label and an event were decoded: a failed decode must leave the block
    empty, not half filled."""
    payload = varint(7) + varint(0) + varint(2 * 1000)
    payload += record(1, varint(0) + b"eth0")
    payload += record(4, varint(0) + varint(0) + varint(1) + varint(2))
    return payload + bytes([15 << 3 | 2])  # a record claiming 15 bytes that are not there


def fnv1a(data):
    value = 0xCBF29CE484222325
    for byte in data:
        value = (value ^ byte) * 0x100000001B3 & 0xFFFFFFFFFFFFFFFF
    return value


def selected_for_linear_work():
    """A header, a marker and a counter chosen so that FuzzChecks' hash
    selects the input for checkLinearWork (one in 1,024), which the
    regression tests then run every time."""
    base = MAGIC + bytes(32) + MARKER
    counter = 0
    while (fnv1a(base + struct.pack("<I", counter)) >> 32) % 1024 != 0:
        counter += 1
    return base + struct.pack("<I", counter)


for name, data in [
    ("payload-failing-after-an-event", half_decoded_payload()),
    ("linear-work-selected-by-hash", selected_for_linear_work()),
    ("limit-1024-labels-in-an-event.sslog", labels_per_event(1024)),
    ("limit-1025-labels-in-an-event.sslog", labels_per_event(1025)),
    ("limit-label-of-1024-bytes.sslog", label_bytes(1024)),
    ("limit-label-of-1025-bytes.sslog", label_bytes(1025)),
]:
    with open("Fuzz/seeds/segment-reader/" + name, "wb") as file:
        file.write(data)
