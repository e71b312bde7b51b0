#!/usr/bin/env python3
"""How much of a script's memory image equals the runtime's own.

    target/release/claimscript --no-cache compile examples/rbac/script.js -o /tmp/rbac.wasm
    python3 bench/image_delta.py /tmp/rbac.wasm crates/host/runtime/claimscript-runtime.wasm

Reads the state module (one memory, its data segments) of a script's
artifact and of the runtime component, lays both images out, and prints how
many 4 KiB pages of the script's image are zero, equal to the runtime's, or
different; how many bytes differ; and the zlib size of the non-zero pages and
of the XOR with the runtime's image (what a compact idle form would store).
"""
import sys
import zlib

PAGE = 4096


def leb(b, i):
    r = s = 0
    while True:
        x = b[i]
        i += 1
        r |= (x & 0x7F) << s
        s += 7
        if x < 0x80:
            return r, i


def sleb(b, i):
    r = s = 0
    while True:
        x = b[i]
        i += 1
        r |= (x & 0x7F) << s
        s += 7
        if x < 0x80:
            if x & 0x40:
                r -= 1 << s
            return r, i


def sections(b, i, end):
    while i < end:
        sid = b[i]
        n, i = leb(b, i + 1)
        yield sid, i, i + n
        i += n


def state_image(path):
    """The memory image of the component's state module."""
    b = open(path, "rb").read()
    for sid, s, e in sections(b, 8, len(b)):
        if sid != 1:  # core module
            continue
        m = b[s:e]
        secs = list(sections(m, 8, len(m)))
        ids = {x[0] for x in secs}
        if not ids <= {0, 5, 7, 11} or 11 not in ids:
            continue
        img = bytearray()
        for sid2, s2, _ in secs:
            if sid2 == 5:  # memory: count, flags, minimum pages
                _, j = leb(m, s2)
                pages, _ = leb(m, j + 1)
                img = bytearray(pages * 65536)
            if sid2 == 11:  # data: active segments at i32.const offsets
                count, j = leb(m, s2)
                for _ in range(count):
                    _, j = leb(m, j)
                    offset, j = sleb(m, j + 1)
                    n, j = leb(m, j + 1)
                    img[offset : offset + n] = m[j : j + n]
                    j += n
        return img
    sys.exit(f"{path}: no state module")


def main():
    script, base = state_image(sys.argv[1]), state_image(sys.argv[2])
    base = base + bytes(max(0, len(script) - len(base)))
    pages = len(script) // PAGE
    zero = same = differ = 0
    for p in range(pages):
        page = script[p * PAGE : (p + 1) * PAGE]
        if not any(page):
            zero += 1
        elif page == base[p * PAGE : (p + 1) * PAGE]:
            same += 1
        else:
            differ += 1
    differing = sum(1 for a, b in zip(script, base) if a != b)
    non_zero = b"".join(
        bytes(script[p * PAGE : (p + 1) * PAGE])
        for p in range(pages)
        if any(script[p * PAGE : (p + 1) * PAGE])
    )
    xor = bytes(a ^ b for a, b in zip(script, base))
    print(
        f"script image: {pages} pages, {zero} zero, {same} equal to the runtime's, "
        f"{differ} different; {differing} bytes differ; non-zero pages "
        f"{len(non_zero) // 1024} KiB, zlib {len(zlib.compress(non_zero, 6)) // 1024} KiB; "
        f"XOR with the runtime's image, zlib {len(zlib.compress(xor, 6)) // 1024} KiB"
    )


if __name__ == "__main__":
    main()
