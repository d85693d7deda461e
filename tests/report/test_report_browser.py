"""report.html must render in a real browser: headless Chromium loads every figure and the table.

Chromium (Debian package ``chromium``) is a required part of the suite; CI installs it. The
test writes a copy of the report with a small script injected that records, on window load,
how many <img> decoded (naturalWidth > 0) and how many rows the results table has, dumps the
DOM with ``--dump-dom`` and reads those numbers back. It also takes a screenshot and checks
that the page is not blank.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from PIL import Image

from transferkit.report import write_report
from transferkit.report.page import CSP

from .factory import make_results

pytestmark = pytest.mark.slow

PROBE = """<script>
window.addEventListener("load", function () {
  var imgs = Array.prototype.slice.call(document.images);
  var ok = imgs.filter(function (i) { return i.complete && i.naturalWidth > 0; }).length;
  var b = document.body.dataset;
  b.imgs = ok + "/" + imgs.length;
  b.rows = String(document.querySelectorAll("table#methods tbody tr").length);
  b.scripts = String(document.scripts.length);
  b.widths = imgs.map(function (i) { return i.naturalWidth; }).join(",");
});
</script>"""


def _chromium() -> str:
    exe = os.environ.get("TRANSFERKIT_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
    if not (Path(exe).is_file() and os.access(exe, os.X_OK)):
        pytest.fail("headless Chromium is required for the report browser test but was not "
                    f"found ({exe}): install it with `apt-get update -qq && apt-get install -y -qq "
                    "chromium` (the CI script does), or set TRANSFERKIT_CHROMIUM")
    return exe


def _run(args: list[str], profile: Path) -> subprocess.CompletedProcess:
    cmd = [_chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
           "--no-first-run", "--disable-background-networking", "--disable-component-update",
           "--disable-sync", f"--user-data-dir={profile}", "--hide-scrollbars", *args]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, f"chromium failed ({proc.returncode}): {proc.stderr[-2000:]}"
    return proc


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("browser")
    results = make_results(classes=["cat", "<script>alert(1)</script>", "fox", "owl"])
    results["methods"][3]["error"] = "out of memory"
    paths = write_report(results, tmp / "report")
    html = paths["html"].read_text(encoding="utf-8")
    assert CSP in html and "</body>" in html
    # the probe is the only script allowed to run in the copy
    probe = html.replace(CSP, CSP + "; script-src 'unsafe-inline'").replace(
        "</body>", PROBE + "</body>")
    check = tmp / "check.html"
    check.write_text(probe, encoding="utf-8")
    return {"results": results, "report": paths["html"], "check": check, "tmp": tmp}


def test_report_renders_all_images_and_rows(page):
    proc = _run(["--dump-dom", "--virtual-time-budget=5000", page["check"].as_uri()],
                page["tmp"] / "profile-dom")
    body = re.search(r"<body([^>]*)>", proc.stdout)
    assert body, f"no <body> in the dumped DOM: {proc.stdout[:500]!r}"
    attrs = dict(re.findall(r'data-(\w+)="([^"]*)"', body.group(1)))
    assert "imgs" in attrs, f"the load probe did not run; body attributes: {body.group(1)!r}"
    loaded, total = map(int, attrs["imgs"].split("/"))
    assert total == 4 and loaded == total, f"images loaded {attrs['imgs']} ({attrs['widths']})"
    assert int(attrs["rows"]) == len(page["results"]["methods"])
    assert attrs["scripts"] == "1"  # the escaped "<script>" class name made no element


def test_report_screenshot_is_not_blank(page):
    shot = page["tmp"] / "shot.png"
    _run([f"--screenshot={shot}", "--window-size=1280,2400", page["report"].as_uri()],
         page["tmp"] / "profile-shot")
    im = Image.open(shot).convert("RGB")
    assert im.size == (1280, 2400)
    colours = im.getcolors(maxcolors=1 << 20)
    assert colours is not None and len(colours) > 200, "screenshot is (nearly) one colour"
    dominant = max(colours)[0] / (im.width * im.height)
    assert dominant < 0.9, f"{dominant:.0%} of the screenshot is one colour"
    # the top of the page holds the title and cards, not an empty canvas
    lo, hi = im.crop((0, 0, 1280, 300)).convert("L").getextrema()
    assert hi - lo > 150
