#!/usr/bin/env python3
"""Opens a `sockstat-convert report` page in headless Chromium and checks it
the way a person would see it.

- offline: loaded from file://, and the browser's network log shows no
  request for anything but the page itself (the page's own
  Content-Security-Policy forbids any);
- no script errors (no SEVERE entries in the browser log), and nothing in
  the data became markup: two script elements, the page's own title;
- the totals table in the DOM equals the expected totals (--expected, a
  JSON object {"labels": {label: {"tx": N, "rx": N, "cellular_tx": N,
  "cellular_rx": N}}} such as `summary --json` gives);
- a zoom (the + key) narrows the visible range;
- a window of at most ten minutes shows 100 ms events, one of about twenty
  minutes 1 s sums;
- screenshots (overview, 1 s, 100 ms) are not blank: many distinct colours
  and a good share of non-white pixels;
- the footer shows each --footer-contains text (footer.png is its screenshot).

Prints one JSON object with what it measured (first-contentful-paint, the
ranges, pixel counts); exits 1 with the reasons on stderr when a check fails,
2 when Chromium or Selenium are missing.
"""
import argparse
import json
import os
import shutil
import struct
import sys
import time
import zlib


def read_png(path):
    """Decodes an 8-bit RGB or RGBA PNG (what Chromium writes) into rows of pixel tuples."""
    with open(path, 'rb') as f:
        data = f.read()
    if data[:8] != b'\x89PNG\r\n\x1a\n':
        raise ValueError('%s: not a PNG' % path)
    offset, idat = 8, b''
    width = height = channels = None
    while offset < len(data):
        length, kind = struct.unpack('>I4s', data[offset:offset + 8])
        body = data[offset + 8:offset + 8 + length]
        if kind == b'IHDR':
            width, height, depth, colour = struct.unpack('>IIBB', body[:10])
            if depth != 8 or colour not in (2, 6):
                raise ValueError('%s: PNG depth %d colour type %d not handled' % (path, depth, colour))
            channels = 3 if colour == 2 else 4
        elif kind == b'IDAT':
            idat += body
        offset += 12 + length
    raw = zlib.decompress(idat)
    stride = width * channels
    rows, previous = [], bytearray(stride)
    at = 0
    for _ in range(height):
        kind = raw[at]
        line = bytearray(raw[at + 1:at + 1 + stride])
        at += 1 + stride
        for i in range(stride):
            left = line[i - channels] if i >= channels else 0
            up = previous[i]
            upper_left = previous[i - channels] if i >= channels else 0
            if kind == 1:
                line[i] = (line[i] + left) & 255
            elif kind == 2:
                line[i] = (line[i] + up) & 255
            elif kind == 3:
                line[i] = (line[i] + ((left + up) >> 1)) & 255
            elif kind == 4:
                p = left + up - upper_left
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - upper_left)
                predictor = left if pa <= pb and pa <= pc else up if pb <= pc else upper_left
                line[i] = (line[i] + predictor) & 255
        rows.append(bytes(line))
        previous = line
    return width, height, channels, rows


def pixel_stats(path, top=0, bottom=None):
    """Distinct colours and the share of non-white pixels in rows top..bottom."""
    width, height, channels, rows = read_png(path)
    colours, coloured, total = set(), 0, 0
    for row in rows[top:bottom]:
        for x in range(0, width * channels, channels):
            pixel = row[x:x + 3]
            colours.add(pixel)
            total += 1
            if pixel != b'\xff\xff\xff':
                coloured += 1
    return {'width': width, 'height': height, 'colours': len(colours), 'non_white': coloured / max(total, 1)}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--report', required=True, help='the HTML page')
    parser.add_argument('--expected', required=True, help='JSON object with the expected "labels" totals')
    parser.add_argument('--screenshots', required=True, help='directory for overview.png, seconds.png, events.png')
    parser.add_argument('--timeout', type=float, default=60)
    parser.add_argument('--footer-contains', action='append', default=[],
                        help='text the footer must show (repeatable); a footer.png screenshot is kept')
    args = parser.parse_args()

    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
        from selenium.webdriver.common.by import By
    except ImportError:
        print('selenium is not installed (python3 -m pip install selenium)', file=sys.stderr)
        return 2
    browser = shutil.which('chromium') or shutil.which('chromium-browser')
    driver_path = shutil.which('chromedriver')
    if not browser or not driver_path:
        print('chromium and chromedriver are needed (apt-get install chromium chromium-driver)', file=sys.stderr)
        return 2

    options = webdriver.ChromeOptions()
    options.binary_location = browser
    for flag in ('--headless=new', '--no-sandbox', '--disable-gpu', '--window-size=1400,900',
                 '--disable-dev-shm-usage', '--hide-scrollbars', '--force-device-scale-factor=1'):
        options.add_argument(flag)
    options.set_capability('goog:loggingPrefs', {'browser': 'ALL', 'performance': 'ALL'})
    driver = webdriver.Chrome(service=Service(driver_path), options=options)
    failures, result = [], {}
    try:
        driver.execute_cdp_cmd('Network.enable', {})
        url = 'file://' + os.path.abspath(args.report)
        started = time.monotonic()
        driver.get(url)

        def wait_for(script, what):
            deadline = time.monotonic() + args.timeout
            while time.monotonic() < deadline:
                if driver.execute_script(script):
                    return True
                time.sleep(0.05)
            failures.append('timed out waiting for ' + what)
            return False

        wait_for('return document.body.dataset.ready === "true"', 'the page to draw')
        result['ready_seconds'] = round(time.monotonic() - started, 3)
        result['first_contentful_paint_ms'] = driver.execute_script(
            'const e = performance.getEntriesByName("first-contentful-paint")[0]; return e ? e.startTime : null')
        if result['first_contentful_paint_ms'] is None:
            failures.append('no first-contentful-paint entry')

        # Nothing from the data became markup or ran: our two scripts only, the title ours.
        scripts, title = driver.execute_script('return [document.scripts.length, document.title]')
        if scripts != 2 or title != 'SockStatLog report':
            failures.append('the page has %d scripts and the title %r' % (scripts, title))

        # Totals: every label's cells against the expected object.
        expected = json.load(open(args.expected))['labels']
        shown = driver.execute_script('''
            const out = {};
            for (const row of document.querySelectorAll("#totals tbody tr")) {
                const cells = {};
                for (const td of row.querySelectorAll("td[data-value]")) cells[td.dataset.field] = td.dataset.value;
                out[row.dataset.label] = cells;
            }
            return out;''')
        result['labels_shown'] = len(shown)
        if set(shown) != set(expected):
            failures.append('labels in the table %r, expected %r' % (sorted(shown), sorted(expected)))
        for label, totals in expected.items():
            for field in ('tx', 'rx', 'cellular_tx', 'cellular_rx'):
                got = shown.get(label, {}).get(field)
                if got is None or int(got) != int(totals[field]):
                    failures.append('label %r %s: page %s, expected %s' % (label, field, got, totals[field]))

        os.makedirs(args.screenshots, exist_ok=True)
        chart_box = driver.find_element(By.ID, 'chart-box')
        chart_top = chart_box.location['y']
        chart_bottom = chart_top + chart_box.size['height']

        def shoot(name):
            wait_for('return document.getElementById("chart").dataset.complete === "true"', 'chunks for ' + name)
            driver.execute_script('window.scrollTo(0, 0)')
            path = os.path.join(args.screenshots, name + '.png')
            driver.save_screenshot(path)
            stats = pixel_stats(path, chart_top, chart_bottom)
            result[name] = stats
            if stats['colours'] < 8 or stats['non_white'] < 0.03:
                failures.append('%s looks blank: %r' % (name, stats))
            return stats

        def view():
            return driver.execute_script('const s = document.getElementById("chart").dataset; '
                                         'return [Number(s.start), Number(s.end), Number(s.resolution)]')

        overview = view()
        result['overview'] = {'range': overview[:2], 'resolution': overview[2]}
        shoot('overview')

        # A zoom action: the + key, as a person would press it.
        chart_box.click()
        from selenium.webdriver.common.action_chains import ActionChains
        ActionChains(driver).send_keys('+').perform()
        zoomed = view()
        result['after_plus_key'] = zoomed[:2]
        if not (zoomed[1] - zoomed[0] < (overview[1] - overview[0]) * 0.75):
            failures.append('the + key did not narrow the range: %r -> %r' % (overview[:2], zoomed[:2]))

        # Around the busiest second: twenty minutes give 1 s sums, five minutes the events.
        burst = driver.execute_script('return JSON.parse(document.getElementById("report-data").textContent).bursts[0].t')
        for name, span, resolution in (('seconds', 20 * 60_000, 1000), ('events', 5 * 60_000, 100)):
            driver.execute_script('window.sockstatReport.setView(arguments[0], arguments[1])', burst - span / 2, burst + span / 2)
            wait_for('return document.getElementById("chart").dataset.complete === "true"', name + ' detail')
            got = view()
            result[name + '_view'] = {'range': got[:2], 'resolution': got[2]}
            if got[2] != resolution:
                failures.append('a %d min window shows resolution %r ms, expected %d' % (span // 60_000, got[2], resolution))
            shoot(name)

        # The footer as shown (its resolution line for rollup tiers), and a screenshot of it.
        footer = driver.find_element(By.ID, 'footer')
        driver.execute_script('arguments[0].scrollIntoView()', footer)
        result['footer'] = footer.text
        driver.save_screenshot(os.path.join(args.screenshots, 'footer.png'))
        for text in args.footer_contains:
            if text not in footer.text:
                failures.append('the footer does not show %r: %r' % (text, footer.text))

        # Nothing but the page itself was requested.
        for entry in driver.get_log('performance'):
            message = json.loads(entry['message'])['message']
            if message.get('method') == 'Network.requestWillBeSent':
                requested = message['params']['request']['url']
                if requested != url and not requested.startswith('data:'):
                    failures.append('network request: ' + requested)
        severe = [entry for entry in driver.get_log('browser') if entry['level'] == 'SEVERE']
        result['severe_log_entries'] = len(severe)
        for entry in severe:
            failures.append('browser log: ' + entry['message'])
    finally:
        driver.quit()
    print(json.dumps(result, indent=1))
    for failure in failures:
        print('FAIL: ' + failure, file=sys.stderr)
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main())
