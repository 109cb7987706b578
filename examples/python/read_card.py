#!/usr/bin/env python3
"""Reads the social security card, verifies the holder's PIN and lists the purchases of the
medical account through libsscard, the national reader interface (iReadCardBas, iVerifyPIN,
iReadDebitRecord), with ctypes.

    python3 examples/python/read_card.py [path/to/libsscard.so]

The readers come from sscard.conf (docs/reader-interface.md). The PIN comes from the callback
registered with iSetPinCallback; this one asks on the terminal (or reads standard input).
"""
import ctypes
import getpass
import sys

ENCODING = "utf-8"  # as configured: `encoding` in sscard.conf (gbk on Windows terminals)

if sys.platform == "win32":
    lib = ctypes.WinDLL(sys.argv[1] if len(sys.argv) > 1 else "sscard.dll")
    FUNCTYPE = ctypes.WINFUNCTYPE  # the interface is __stdcall on Windows
else:
    lib = ctypes.CDLL(sys.argv[1] if len(sys.argv) > 1 else "libsscard.so")
    FUNCTYPE = ctypes.CFUNCTYPE

for name in ("iReadCardBas", "iVerifyPIN", "iReadDebitRecord"):
    getattr(lib, name).argtypes = [ctypes.c_int, ctypes.c_char_p]
    getattr(lib, name).restype = ctypes.c_long

# long callback(int iPrompt, char *pPin, int iPinSize, void *pUser)
PinCallback = FUNCTYPE(ctypes.c_long, ctypes.c_int, ctypes.c_void_p, ctypes.c_int, ctypes.c_void_p)
PROMPTS = {1: "请输入密码: ", 2: "请输入原密码: ", 3: "请输入新密码: ", 4: "请再次输入新密码: "}


@PinCallback
def ask_pin(prompt, pin, size, user):
    digits = getpass.getpass(PROMPTS.get(prompt, "PIN: ")).strip().encode("ascii")
    if not digits or len(digits) >= size:
        return -31  # 用户取消密码输入
    ctypes.memmove(pin, digits + b"\0", len(digits) + 1)
    return 0


lib.iSetPinCallback.argtypes = [PinCallback, ctypes.c_void_p]
lib.iSetPinCallback(ask_pin, None)

out = ctypes.create_string_buffer(1024)  # the interface's pOutInfo size for iReadCardBas
rc = lib.iReadCardBas(1, out)  # 1: the contact card
print("iReadCardBas:", rc, out.value.decode(ENCODING))
if rc == 0:
    fields = out.value.decode(ENCODING).split("|")
    print("name:", fields[4], "card number:", fields[2])
    rc = lib.iVerifyPIN(1, out)
    print("iVerifyPIN:", rc, out.value.decode(ENCODING))
if rc == 0:
    records = ctypes.create_string_buffer(2048)  # iReadDebitRecord's pOutInfo (§9.1)
    rc = lib.iReadDebitRecord(1, records)  # asks for the PIN again
    print("iReadDebitRecord:", rc, records.value.decode(ENCODING))
sys.exit(0 if rc == 0 else 1)
