#!/usr/bin/python3
# Independent reference for the EVTX reader: python-evtx (Debian python3-evtx), run with /usr/bin/python3.
# Prints JSON Lines: one {"kind":"chunk",...} per 64 KiB chunk slot and one {"kind":"record",...} per
# record python-evtx yields, with the fields of our EvtxEvent taken from python-evtx's XML:
#   recordId (string), time (TimeCreated/@SystemTime as python-evtx prints it), provider, eventId,
#   level, computer, data (EventData <Data Name=..> by name, unnamed by position "0","1",..;
#   UserData leaf elements by name), or "error" when python-evtx cannot render the record; plus the
#   record's file offset and "verified" (python-evtx's Record.verify(): the size copy matches).
# python-evtx prints an array of strings (type 0x81) as "<string>a</string>\n<string>b</string>\n"
# inside one <Data>; Windows (and our reader) repeat the <Data> element per item, so such a value is
# expanded into one positional item per <string> here. python-evtx 0.6.1 builds that text with a
# regex that misplaces leading empty strings (['', '', 'a'] prints as a, '', '' or worse), so
# its string() for that one type is replaced below by a plain split of the bytes python-evtx parsed.
# Usage: evtx_dump.py <file.evtx>
import json
import re
import sys
import xml.etree.ElementTree as ET

import Evtx.Evtx as evtx
import Evtx.Nodes as e_nodes

ARRAY_RE = re.compile(r"^(?:<string>.*?</string>\n)+$", re.S)
ITEM_RE = re.compile(r"<string>(.*?)</string>\n", re.S)


def _wstring_array_string(self):
    s = bytes(self.binary()).decode("utf-16le", "replace")
    items = s.split("\x00")
    if s.endswith("\x00"):
        items.pop()
    return "".join("<string>" + i + "</string>\n" for i in items)


e_nodes.WstringArrayTypeNode.string = _wstring_array_string


def local(tag):
    return tag.rsplit("}", 1)[-1]


def child(el, name):
    if el is None:
        return None
    for c in el:
        if local(c.tag) == name:
            return c
    return None


def text(el):
    return "" if el is None else "".join(el.itertext())


def extract(xml):
    root = ET.fromstring(xml)
    if local(root.tag) != "Event":
        raise ValueError("no Event element")
    sysel = child(root, "System")
    prov = child(sysel, "Provider")
    out = {
        "provider": (prov.get("Name") or prov.get("EventSourceName") or "") if prov is not None else "",
        "eventId": int(text(child(sysel, "EventID")).strip()),
        "time": child(sysel, "TimeCreated").get("SystemTime"),
    }
    lv = text(child(sysel, "Level")).strip()
    if lv.isdigit():
        out["level"] = int(lv)
    comp = child(sysel, "Computer")
    if comp is not None:
        out["computer"] = text(comp)
    data = {}

    def put(k, v):
        data[k] = data[k] + "\n" + v if k in data else v

    ed = child(root, "EventData")
    if ed is not None:
        pos = 0
        for c in ed:
            if local(c.tag) == "Data":
                name = c.get("Name")
                v = text(c)
                items = ITEM_RE.findall(v) if ARRAY_RE.match(v) else [v]
                for item in items:
                    put(name if name else str(pos), item)
                    pos += 1
            else:
                put(local(c.tag), text(c))
    ud = child(root, "UserData")
    if ud is not None:
        def walk(e):
            kids = list(e)
            if not kids:
                if local(e.tag) not in data:
                    data[local(e.tag)] = e.text or ""
            else:
                for k in kids:
                    walk(k)
        for c in ud:
            for k in c:
                walk(k)
    out["data"] = data
    return out


def main(path):
    w = sys.stdout.write
    with evtx.Evtx(path) as log:
        fh = log.get_file_header()
        for i, ch in enumerate(fh.chunks()):
            info = {"kind": "chunk", "index": i, "magic": ch.check_magic()}
            if not info["magic"]:
                w(json.dumps(info) + "\n")
                continue
            try:
                info["headerCrcOk"] = ch.calculate_header_checksum() == ch.header_checksum()
                info["dataCrcOk"] = ch.calculate_data_checksum() == ch.data_checksum()
            except Exception as e:  # noqa: BLE001 - a damaged header is data, not a failure
                info["crcError"] = repr(e)
            w(json.dumps(info) + "\n")
            try:
                for r in ch.records():
                    # verify(): python-evtx's own check that the size copy at the end of the record matches
                    row = {"kind": "record", "chunk": i, "recordId": str(r.record_num()),
                           "offset": r.offset(), "verified": bool(r.verify())}
                    try:
                        row.update(extract(r.xml()))
                    except Exception as e:  # noqa: BLE001
                        row["error"] = repr(e)
                    w(json.dumps(row) + "\n")
            except Exception as e:  # noqa: BLE001
                w(json.dumps({"kind": "chunkError", "index": i, "error": repr(e)}) + "\n")


if __name__ == "__main__":
    main(sys.argv[1])
