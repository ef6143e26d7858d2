#!/usr/bin/env python3
"""Makes qr-known-answers.json: QR codes made by the Python `qrcode` package (8.2; byte mode,
level M, mask 0, no border) for texts of several lengths, so the facade's own encoder
(Sources/BankHooksServer/Yapily/QRCode.swift) is checked module for module against another one.
Run: pip install qrcode==8.2 && python3 qr-known-answers.py
"""
import json, os
import qrcode
from qrcode.util import QRData, MODE_8BIT_BYTE

BASE = "http://127.0.0.1:8080/sandbox-bank/authorise/2d5c3632-1729-4a5e-bc69-c7fa1cbba815?state=7948ba4d6a064001b06ef28f8c06ca4a"
TEXTS = ["A", "hello, world", BASE, BASE + "&" + "x" * 120, BASE + "&" + "é" * 300, BASE + "&" + "y" * 1100]

answers = []
for text in TEXTS:
    qr = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=0, mask_pattern=0)
    qr.add_data(QRData(text.encode(), mode=MODE_8BIT_BYTE))
    qr.make(fit=True)
    answers.append({"text": text, "version": qr.version, "rows": ["".join("1" if c else "0" for c in row) for row in qr.get_matrix()]})
with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "qr-known-answers.json"), "w") as f:
    json.dump({"x-source": "python qrcode 8.2", "answers": answers}, f, indent=0, ensure_ascii=False)
    f.write("\n")
print([a["version"] for a in answers])
