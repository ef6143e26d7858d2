#!/usr/bin/env python3
"""The dashboard in a real browser: headless Chromium driven by Selenium against a live
`bankhooks serve` (SQLite in a temporary folder) and a local receiver, all on 127.0.0.1.

    python3 scripts/dashboard-browser-test.py [--binary .build/debug/bankhooks] [--screenshots DIR]

It walks what an integrator does: sign in with an admin key -> create a webhook -> copy the
secret -> "Send a test" -> see the attempt -> rotate the secret -> resend a delivery -> the events,
filtered, and one with its payload -> recover since a time, to the end of its progress -> the
catalog and a type's example -> a sandbox availability switch -> an authorisation started and
followed through the bank's consent page -> a new API key -> a new application -> a form posted
from another origin is refused -> sign out; then a viewer, who sees no admin form and is
refused when posting one anyway. Each step writes a screenshot (default
.build/dashboard-screenshots/NN-step.png). Needs Debian's `chromium` and `chromium-driver` and
`pip install selenium`. Ends with `N passed, N failed`; exits 1 if a check failed.
"""
import argparse
import base64
import hashlib
import hmac
import http.server
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import urllib.request

from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import WebDriverWait

ADMIN_KEY = "bhk_dashboardop_" + "d" * 32


class Receiver(http.server.ThreadingHTTPServer):
    """Records each webhook it gets (answering 200), and serves /evil: a page of another origin
    with a form that posts to the dashboard."""

    def __init__(self):
        super().__init__(("127.0.0.1", 0), ReceiverHandler)
        self.received = []
        self.dashboard = ""
        self.webhook_id = ""


class ReceiverHandler(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("content-length", 0)))
        self.server.received.append((self.path, {k.lower(): v for k, v in self.headers.items()}, body))
        reply = b'{"received":true}'
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)

    def do_GET(self):
        page = (
            "<!doctype html><title>Another site</title><h1>Win a prize</h1>"
            f'<form method="post" action="{self.server.dashboard}/dashboard/webhooks/{self.server.webhook_id}/rotate-secret">'
            '<input type="hidden" name="csrf" value="guessed"><button id="go" type="submit">Claim</button></form>'
        ).encode()
        self.send_response(200)
        self.send_header("content-type", "text/html; charset=utf-8")
        self.send_header("content-length", str(len(page)))
        self.end_headers()
        self.wfile.write(page)

    def log_message(self, *args):
        pass


class Walk:
    def __init__(self, base, screenshots, driver):
        self.base = base
        self.screenshots = screenshots
        self.driver = driver
        self.passed = 0
        self.failed = 0
        self.shots = 0

    def check(self, condition, what):
        if condition:
            self.passed += 1
            print(f"  ok    {what}", flush=True)
        else:
            self.failed += 1
            print(f"  FAIL  {what}", flush=True)
        return condition

    def shot(self, name):
        self.shots += 1
        path = os.path.join(self.screenshots, f"{self.shots:02d}-{name}.png")
        self.driver.save_screenshot(path)
        print(f"  shot  {path}", flush=True)

    def open(self, path):
        self.driver.get(self.base + path)

    def text(self):
        return self.driver.find_element(By.TAG_NAME, "body").text

    def navigates(self, action):
        """Runs `action` (a click, a key, a submit) and waits for the page it leads to to load."""
        old = self.driver.find_element(By.TAG_NAME, "html")
        action()
        WebDriverWait(self.driver, 30).until(lambda driver: self.gone(old))
        WebDriverWait(self.driver, 30).until(lambda driver: driver.execute_script("return document.readyState") == "complete")

    @staticmethod
    def gone(element):
        """Whether `element` left the document: Selenium's `staleness_of`, except that Chromium may
        answer a node of the page being replaced with "Node with given id does not belong to the
        document" (a plain WebDriverException) instead of a stale reference; that is gone too."""
        try:
            element.is_enabled()
            return False
        except StaleElementReferenceException:
            return True
        except WebDriverException as error:
            if "does not belong to the document" in str(error):
                return True
            raise

    def click(self, text):
        """Follows the link or presses the button whose text is `text` (a link by keyboard: focus, then Enter)."""
        element = self.driver.find_element(By.XPATH, f'//button[normalize-space()="{text}"] | //a[normalize-space()="{text}"]')
        self.navigates(lambda: element.send_keys(Keys.ENTER) if element.tag_name == "a" else element.click())

    def follow(self, link_text):
        element = self.driver.find_element(By.LINK_TEXT, link_text)
        self.navigates(element.click)

    def has_button(self, text):
        return bool(self.driver.find_elements(By.XPATH, f'//button[normalize-space()="{text}"] | //a[normalize-space()="{text}"]'))

    def sign_in(self, key):
        self.open("/dashboard")
        field = self.driver.find_element(By.ID, "key")
        field.send_keys(key)
        self.navigates(lambda: field.send_keys(Keys.ENTER))


def api(base, method, path, key, body=None):
    request = urllib.request.Request(base + path, method=method, headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
                                     data=json.dumps(body).encode() if body is not None else None)
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read() or b"{}")


def verifies(secret, headers, body):
    """Whether a Standard Webhooks signature verifies with `secret` (whsec_<base64>)."""
    key = base64.b64decode(secret.split("_", 1)[1])
    signed = f'{headers["webhook-id"]}.{headers["webhook-timestamp"]}.'.encode() + body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    return any(part.split(",", 1)[1] == expected for part in headers.get("webhook-signature", "").split() if "," in part)


def start_server(binary, folder):
    process = subprocess.Popen(
        [binary, "serve", "--database", os.path.join(folder, "dashboard.sqlite"), "--port", "0", "--admin-key", ADMIN_KEY,
         "--allow-destination", "127.0.0.1/32"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + 60
    for line in process.stdout:
        match = re.search(r"listening on (http://127\.0\.0\.1:\d+)", line)
        if match:
            threading.Thread(target=lambda: [None for _ in process.stdout], daemon=True).start()
            return process, match.group(1)
        if time.monotonic() > deadline:
            break
    process.kill()
    raise RuntimeError("bankhooks serve did not say where it listens")


def walk(w, base, receiver):
    driver = w.driver
    print("admin: sign in -> create -> copy -> send a test -> attempt -> rotate -> resend -> another origin -> sign out")
    w.open("/dashboard/webhooks")
    w.check(driver.current_url.endswith("/dashboard/sign-in"), "signed out, the dashboard leads to sign in")
    w.shot("sign-in")
    w.sign_in(ADMIN_KEY)
    w.check(driver.current_url.endswith("/dashboard/webhooks") and "No webhooks yet" in w.text(), "signed in: the empty list")
    w.shot("webhooks-empty")

    w.click("New webhook")
    driver.find_element(By.ID, "url").send_keys(receiver.url)
    driver.find_element(By.ID, "name").send_keys("Orders")
    for event in ["entity.created", "payment.created"]:
        driver.find_element(By.CSS_SELECTOR, f'input[name="event:{event}"]').send_keys(Keys.SPACE)
    w.shot("new-webhook")
    w.click("Create webhook")
    secret = driver.find_element(By.ID, "secret").get_attribute("value")
    w.check(secret.startswith("whsec_"), "created: the secret is shown")
    w.check("Webhook created" in w.text(), "created: the message says so")
    webhook_id = driver.current_url.rsplit("/", 1)[1]
    receiver.webhook_id = webhook_id

    # Copy: the button appears with the script, and puts the secret on the clipboard.
    driver.execute_cdp_cmd("Browser.grantPermissions", {"origin": base, "permissions": ["clipboardReadWrite", "clipboardSanitizedWrite"]})
    button = driver.find_element(By.CSS_SELECTOR, 'button[data-copy="secret"]')
    w.check(button.is_displayed(), "the copy button is shown")
    button.click()
    try:
        WebDriverWait(driver, 10).until(lambda _: button.text == "Copied")
    except Exception:
        pass
    w.check(button.text == "Copied", "the copy button says Copied")
    copied = driver.execute_async_script("const done = arguments[0]; navigator.clipboard.readText().then(done, e => done('error: ' + e));")
    w.check(copied == secret, "the clipboard holds the secret")
    w.shot("secret-copied")

    w.click("Send a test")
    text = w.text()
    w.check("The test event was delivered." in text and "HTTP 200" in text, "Send a test: delivered, HTTP 200, inline")
    w.check(len(receiver.received) == 1 and verifies(secret, receiver.received[0][1], receiver.received[0][2]),
            "the receiver got it, signed with the secret copied")
    w.check(secret not in driver.page_source, "the secret is not shown again")
    w.shot("test-sent")

    w.click("see the attempt")
    w.check("Attempt 1" in w.text() and "HTTP 200" in w.text(), "the delivery shows its attempt")
    driver.find_element(By.XPATH, '//summary[normalize-space()="Request headers"]').click()
    w.check("webhook-signature" in w.text(), "the attempt's request headers")
    w.shot("attempt")
    delivery_url = driver.current_url

    w.follow("Orders")
    w.click("Rotate secret")
    rotated = driver.find_element(By.ID, "secret").get_attribute("value")
    w.check(rotated.startswith("whsec_") and rotated != secret, "rotated: a new secret, shown once")
    w.check("previous secret keeps signing" in w.text(), "rotated: the previous secret's grace period")
    w.shot("rotated")

    driver.get(delivery_url)
    w.click("Resend")
    w.check("Sent again: delivered." in w.text() and "Attempt 2" in w.text(), "resent: a second attempt")
    w.check(len(receiver.received) == 2 and verifies(rotated, receiver.received[1][1], receiver.received[1][2]),
            "the resend is signed with the new secret")
    w.shot("resent")

    step_two(w, base, receiver, webhook_id)

    # A form on another origin (the receiver's port) that posts to the dashboard is refused.
    received = len(receiver.received)
    driver.get(receiver.url.rsplit("/", 1)[0] + "/evil")
    go = driver.find_element(By.ID, "go")
    w.navigates(go.click)
    w.check("This form came from another site" in w.text(), "a form from another origin is refused")
    after = api(base, "GET", f"/v1/webhooks/{webhook_id}", ADMIN_KEY)
    w.check(after.get("previous_secret_expires_at") is not None and len(receiver.received) == received, "and nothing happened")
    w.shot("other-origin-refused")

    # Narrow screen: the list stacks.
    driver.set_window_size(390, 844)
    w.open("/dashboard/webhooks")
    w.check("Orders" in w.text() and "100 %" in w.text(), "narrow screen: the list with its 24 h success rate")
    w.shot("narrow-list")
    driver.set_window_size(1280, 900)

    w.click("Sign out")
    w.check("You are signed out." in w.text(), "signed out")
    w.open("/dashboard/webhooks")
    w.check(driver.current_url.endswith("/dashboard/sign-in"), "signed out: the dashboard leads to sign in again")
    w.shot("signed-out")

    print("viewer: sees no admin form, and posting one anyway is refused")
    viewer = api(base, "POST", "/v1/api-keys", ADMIN_KEY, {"role": "viewer"})["key"]
    w.sign_in(viewer)
    text = w.text()
    w.check("Orders" in text and "viewer" in text.lower() and not w.has_button("New webhook"), "viewer: the list, no New webhook")
    w.follow("Orders")
    w.check(not any(w.has_button(b) for b in ["Send a test", "Rotate secret", "Disable", "Delete…"]), "viewer: no admin action on the webhook")
    w.check("Deliveries" in w.text(), "viewer: reads the deliveries")
    w.shot("viewer-webhook")
    # The form the viewer cannot see, posted anyway with the session's own CSRF token.
    csrf = driver.find_element(By.CSS_SELECTOR, 'input[name="csrf"]').get_attribute("value")
    w.navigates(lambda: driver.execute_script(
        "const f = document.createElement('form'); f.method = 'post'; f.action = arguments[0];"
        "const c = document.createElement('input'); c.type = 'hidden'; c.name = 'csrf'; c.value = arguments[1]; f.appendChild(c);"
        "document.body.appendChild(f); f.submit();",
        f"/dashboard/webhooks/{webhook_id}/rotate-secret", csrf))
    w.check("cannot rotate webhook secrets" in w.text(), "viewer: a posted admin form is refused with the API's words")
    w.check(api(base, "GET", f"/v1/webhooks/{webhook_id}", ADMIN_KEY).get("previous_secret_expires_at") == after.get("previous_secret_expires_at"),
            "viewer: the secret did not change")
    w.shot("viewer-refused")
    w.open("/dashboard/sandbox")
    w.check(not driver.find_elements(By.CSS_SELECTOR, "button.switch") and not w.has_button("Start authorisation"),
            "viewer: the sandbox without switches or the start form")
    w.check(not w.has_button("API keys") and not w.has_button("Applications"), "viewer: no keys or applications pages in the menu")


def set_value(driver, element_id, value):
    """Sets a field's value as typing would (a datetime-local field's keys depend on the locale)."""
    driver.execute_script("const e = document.getElementById(arguments[0]); e.value = arguments[1]; e.dispatchEvent(new Event('input'));",
                          element_id, value)


def step_two(w, base, receiver, webhook_id):
    driver = w.driver
    print("admin: events -> an event -> recover -> catalog -> sandbox switch -> authorisation -> keys -> applications")
    w.follow("Events")
    w.check("webhook.test" in w.text(), "events: the test event is listed")
    field = driver.find_element(By.ID, "type")
    field.send_keys("webhook.test")
    w.navigates(lambda: field.send_keys(Keys.ENTER))
    w.check("type=webhook.test" in driver.current_url and "webhook.test" in w.text(), "events: filtered by type")
    w.shot("events")
    event_link = driver.find_element(By.CSS_SELECTOR, 'a[href^="/dashboard/events/"]')
    w.navigates(event_link.click)
    payload = driver.find_element(By.CSS_SELECTOR, "pre.excerpt").text
    w.check(payload.startswith("{\n  ") and "Orders" in w.text() and "succeeded" in w.text(), "an event: its payload indented, its deliveries")
    w.shot("event")

    w.open(f"/dashboard/webhooks/{webhook_id}")
    driver.find_element(By.XPATH, '//summary[normalize-space()="Recover failed deliveries since a time"]').click()
    set_value(driver, "recover-since", "2020-01-01T00:00")
    w.click("Recover")
    w.check("/dashboard/recoveries/rcv_" in driver.current_url and "Recovery started" in w.text(), "recover: the job's page")
    deadline = time.monotonic() + 30
    while "Finished" not in w.text() and time.monotonic() < deadline:
        time.sleep(0.5)
    w.check("Finished" in w.text() and driver.find_elements(By.ID, "progress"), "recover: its progress, to the end (the page reloads itself)")
    w.shot("recovery")

    w.follow("Catalog")
    w.check("bank.availability.updated" in w.text() and "entity.created" in w.text(), "catalog: every family's types")
    w.shot("catalog")
    w.follow("bank.availability.updated")
    w.check("Example" in w.text() and '"identifier":' in w.text() and "Schema of data" in w.text(), "catalog: a type's example and schema")
    w.shot("event-type")

    api(base, "PATCH", "/v1/applications/app_default", ADMIN_KEY, {"redirect_callbacks": [receiver.url.rsplit("/", 1)[0] + "/cb"]})
    w.follow("Sandbox")
    switch = driver.find_element(By.CSS_SELECTOR, 'button.switch[aria-pressed="true"]')
    w.navigates(switch.click)
    w.check("is now off" in w.text(), "sandbox: an availability switch turned off")
    w.shot("sandbox")
    switch = driver.find_element(By.CSS_SELECTOR, 'button.switch[aria-pressed="false"]')
    w.navigates(switch.click)
    w.check("online for payments is now on" in w.text(), "sandbox: and on again (the first switch off is the one just turned off)")
    driver.find_element(By.ID, "callback").send_keys(receiver.url.rsplit("/", 1)[0] + "/cb")
    driver.find_element(By.ID, "application_user_id").send_keys("customer-42")
    w.click("Start authorisation")
    w.check("AWAITING_AUTHORIZATION" in w.text(), "sandbox: an authorisation started, awaiting the end user")
    w.shot("authorisation-waiting")
    authorisation_page = driver.current_url
    consent = driver.find_element(By.LINK_TEXT, "Open the consent page").get_attribute("href")
    driver.get(consent)
    driver.find_element(By.ID, "username").send_keys("user_good")
    driver.find_element(By.ID, "password").send_keys("user_good")  # every login's password is the login itself
    w.shot("consent-page")
    w.click("Approve")
    driver.get(authorisation_page)
    w.check("AUTHORIZED" in w.text() and "none yet" not in w.text(), "sandbox: followed to AUTHORIZED, its consent listed")
    w.shot("authorisation-done")

    w.follow("API keys")
    select = driver.find_element(By.ID, "role")
    select.send_keys("developer")
    w.click("Create key")
    key = driver.find_element(By.ID, "secret").get_attribute("value")
    w.check(key.startswith("bhk_") and "developer" in w.text(), "keys: a new key, shown once, with its copy button")
    w.shot("api-keys")
    w.follow("Applications")
    driver.find_element(By.ID, "app-name").send_keys("Acme")
    w.click("Create application")
    w.check("Application created" in w.text() and "No keys yet." in w.text(), "applications: one created")
    w.shot("application")

    driver.set_window_size(390, 844)
    w.open("/dashboard/events")
    w.check("webhook.test" in w.text(), "narrow screen: the events")
    w.shot("narrow-events")
    w.open("/dashboard/sandbox")
    w.shot("narrow-sandbox")
    driver.set_window_size(1280, 900)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--binary", default=".build/debug/bankhooks")
    parser.add_argument("--screenshots", default=".build/dashboard-screenshots")
    arguments = parser.parse_args()
    os.makedirs(arguments.screenshots, exist_ok=True)
    folder = tempfile.mkdtemp(prefix="bankhooks-dashboard.")
    server = None
    driver = None
    receiver = Receiver()
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    receiver.url = f"http://127.0.0.1:{receiver.server_address[1]}/hook"
    w = None
    try:
        server, base = start_server(arguments.binary, folder)
        receiver.dashboard = base
        options = webdriver.ChromeOptions()
        options.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
        for flag in ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,900", "--disable-gpu"]:
            options.add_argument(flag)
        driver = webdriver.Chrome(options=options, service=Service(shutil.which("chromedriver") or "/usr/bin/chromedriver"))
        driver.set_page_load_timeout(30)
        w = Walk(base, arguments.screenshots, driver)
        walk(w, base, receiver)
    except Exception:
        traceback.print_exc()
        if w is not None:
            w.failed += 1
            try:
                w.shot("error")
            except Exception:
                pass
    finally:
        if driver is not None:
            driver.quit()
        if server is not None:
            server.terminate()
            server.wait(timeout=10)
        receiver.shutdown()
        shutil.rmtree(folder, ignore_errors=True)
    passed, failed = (w.passed, w.failed) if w else (0, 1)
    print(f"dashboard: {passed} passed, {failed} failed")
    sys.exit(0 if failed == 0 else 1)


if __name__ == "__main__":
    main()
