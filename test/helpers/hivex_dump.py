#!/usr/bin/python3
# Independent reference dump made with libhivex (python3-hivex), in the exact JSON Lines format of
# `wufix hive dump --json`: one object per key, depth first, subkeys and values in stored order.
# Usage: hivex_dump.py <hive> [write-edits.json]   (run with /usr/bin/python3)
import hivex, json, sys

def name_of(h, node):
    return h.node_name(node)

def dump(path):
    h = hivex.Hivex(path)
    out = sys.stdout
    stack = [(h.root(), "")]
    while stack:
        node, p = stack.pop()
        vals = []
        for v in h.node_values(node):
            t, data = h.value_value(v)
            vals.append({"name": h.value_key(v), "type": t, "data": data.hex()})
        out.write(json.dumps({"path": p, "values": vals}) + "\n")
        kids = h.node_children(node)
        for c in reversed(kids):
            n = name_of(h, c)
            stack.append((c, n if p == "" else p + "\\" + n))

if __name__ == "__main__":
    dump(sys.argv[1])
