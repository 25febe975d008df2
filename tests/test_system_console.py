"""The live operator console, as an operator sees it: Debian's Chromium
(tests/browser_harness.py) against the real Odoo 14 server as a subprocess
(threaded, the PLC runner loaded server-wide) and the `scada-plc` plant
simulator, all on 127.0.0.1.  Odoo 14's HttpCase cannot test this: under
the test registry `/longpolling/poll` answers "bus.Bus not available in
test mode", so the live board is only seen live against a real server.

The operator is a SCADA User who reads Indonesian and has no e-mail
address.  Each scenario loads the board once and then only clicks, types
and waits: what changes on the page comes over the bus (a marker set after
the first load must still be there at the end, so nothing reloaded it).
The expected words are read from the addon's i18n/id.po.

The line: batches of BATCH_SECONDS, polled every second; the simulator
fails the FAIL_TAKE-th recipe it takes.  To keep a recipe from being
taken, the test does what a stuck line does: a READ slot shows a result
nobody acknowledged (the plant takes no new recipe into that slot), and
for a recipe that cannot even be written, the WRITE slot holds one the
plant has not taken.  The scenarios share the server and run in order;
each waits for an empty queue first (the bridge queues MOs only then)."""

import ast
import contextlib
import json
import re
import subprocess
import time
import uuid
import xmlrpc.client

import pytest
from browser_harness import SCREENSHOTS, Browser
from system_harness import ROOT, VENV, Line, Simulator, wait_for

from plclib.client import FinsClient
from plclib.memory_map import (
    PLANT_SILOS,
    READ_AREA_BASE,
    WRITE_AREA_BASE,
    default_read_layout,
    default_write_layout,
    silo_id_key,
    slot_address,
)

pytestmark = pytest.mark.system

BATCH_SECONDS = 8
FAIL_TAKE = 2  # the second recipe the plant takes fails: scenario b's
BOARD = "/web#action=scada_plc_bridge.mo_batch_action"
ALARMS = "/web#action=scada_plc_bridge.scada_alarm_action"
SILO_LEVELS = "/web#action=scada_plc_bridge.scada_silo_level_action"
OPERATOR = "operator"
SILO_OF_COMPONENT = {"SYS SILO_A": "silo_a", "SYS SILO_D": "silo_d", "SYS LQ114": "lq114"}


# -- the words the operator reads ----------------------------------------------------
def _po_entries(path):
    entries, current, parts = {}, None, {}
    for line in path.read_text(encoding="utf-8").splitlines() + [""]:
        line = line.strip()
        if line.startswith("msgid "):
            if parts.get("msgid"):
                entries["".join(parts["msgid"])] = "".join(parts.get("msgstr", []))
            current, parts = "msgid", {"msgid": [ast.literal_eval(line[6:])]}
        elif line.startswith("msgstr "):
            current = "msgstr"
            parts["msgstr"] = [ast.literal_eval(line[7:])]
        elif line.startswith('"') and current:
            parts[current].append(ast.literal_eval(line))
        else:
            current = None
    if parts.get("msgid"):
        entries["".join(parts["msgid"])] = "".join(parts.get("msgstr", []))
    return entries


INDONESIAN = _po_entries(ROOT / "scada_plc_bridge" / "i18n" / "id.po")


def indonesian(msgid):
    """What the operator reads for `msgid` (it must be translated)."""
    text = INDONESIAN.get(msgid)
    assert text, "i18n/id.po has no Indonesian for %r" % msgid
    return text


CANNOT_STOP_EN = r"cannot\s+(be\s+)?stop"


def _words(text):
    return re.sub(r"\s+", " ", text or "").strip()


def indonesian_all(pattern):
    """The Indonesian of every message whose English matches `pattern`, as
    rendered (runs of white space as one space)."""
    return [_words(text) for msgid, text in INDONESIAN.items() if text and re.search(pattern, msgid, re.I)]


# -- the line --------------------------------------------------------------------------
class Console:
    """The server, the line, the operator's browser."""

    def __init__(self, simulator, database, server, plant, operator_id, browser):
        self.simulator, self.database, self.server, self.plant = simulator, database, server, plant
        self.operator_id, self.browser = operator_id, browser
        self.rpc = server.rpc

    # -- manufacturing orders, batches, history --
    def confirm_mos(self, count):
        """`count` MOs confirmed in one transaction, so one queue fill takes them
        all (slots 1..count, in this order); their (id, name)s."""
        ids = [
            self.rpc(
                "mrp.production",
                "create",
                {
                    "product_id": self.plant.feed,
                    "bom_id": self.plant.bom,
                    "product_qty": 100,
                    "product_uom_id": self.plant.kg,
                },
                context={"import_file": True},
            )
            for _n in range(count)
        ]
        self.rpc("mrp.production", "action_confirm", ids)
        rows = self.rpc("mrp.production", "read", ids, fields=["name"])
        return [(row["id"], row["name"]) for row in rows]

    def batch(self, production_id, fields=("state", "slot", "plc_ref", "last_error", "id")):
        rows = self.rpc(
            "mo.batch", "search_read", [("production_id", "=", production_id)], fields=list(fields)
        )
        return rows[0] if rows else None

    def wait_batch(self, production_id, what, predicate=bool, timeout=20):
        def matching():
            batch = self.batch(production_id)
            return batch if batch and predicate(batch) else None

        return wait_for(matching, timeout, 0.3, what)

    def history(self, production_id):
        rows = self.rpc(
            "mo.history",
            "search_read",
            [("production_id", "=", production_id)],
            fields=["status", "notes", "plc_ref", "slot"],
        )
        return rows[0] if rows else None

    def wait_history(self, production_id, what, timeout=30):
        return wait_for(lambda: self.history(production_id), timeout, 0.5, what)

    def production_state(self, production_id):
        return self.rpc("mrp.production", "read", [production_id], fields=["state"])[0]["state"]

    def wait_queue_empty(self, timeout=45):
        wait_for(lambda: not self.rpc("mo.batch", "search_count", []), timeout, 0.5, "an empty queue")

    def takes(self, plc_ref):
        return self.simulator.stats().get("takes_by_mo", {}).get(plc_ref, 0)

    def send_requests(self, *states):
        domain = [("kind", "=", "send"), ("create_uid", "=", self.operator_id)]
        if states:
            domain.append(("state", "in", list(states)))
        return self.rpc("scada.plc.request", "search_read", domain, fields=["state", "result"])

    # -- the PLC's memory, as the line's own HMI would change it --
    def slot(self, area, slot):
        """A slot as `scada-plc slot --json` decodes it."""
        done = subprocess.run(
            [str(VENV / "bin" / "scada-plc"), "slot", "--port", str(self.simulator.port)]
            + ["--area", area, "--slot", str(slot), "--json"],
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert done.stdout, "scada-plc slot failed (%s): %s" % (done.returncode, done.stderr)
        return json.loads(done.stdout)["fields"]

    def write_slot(self, area, slot, values):
        layout = default_read_layout() if area == "read" else default_write_layout()
        base = READ_AREA_BASE if area == "read" else WRITE_AREA_BASE
        words = layout.encode(values) if values else [0] * layout.size_words
        with FinsClient(port=self.simulator.port, timeout=2.0) as client:
            client.write_words("D%d" % slot_address(base, slot), words)

    def block_slot(self, slot, with_recipe=False):
        """The READ slot shows a batch nobody acknowledged (the plant takes no
        new recipe into the slot); with_recipe: and the WRITE slot holds a
        recipe the plant has not taken (nothing can be written there)."""
        ids = {silo_id_key(tag): silo_id for tag, silo_id in PLANT_SILOS}
        # READ first: with it free, the plant could take the stale recipe in between.
        self.write_slot("read", slot, dict(ids, batch_no=999, mo_id="HOLD-R%d" % slot))
        if with_recipe:
            self.write_slot("write", slot, dict(ids, batch_no=998, mo_id="HOLD-W%d" % slot, quantity=1.0))

    def unblock_slot(self, slot):
        """Blank WRITE slot first (so the plant never takes the stale recipe), then READ."""
        self.write_slot("write", slot, None)
        self.write_slot("read", slot, None)

    # -- the browser --
    def open_board(self):
        """The board, loaded once: a marker that only a reload would remove."""
        self.open_once(BOARD, ".o_kanban_view.o_scada_board")

    def open_once(self, path, ready):
        self.browser.goto(path, ready=ready)
        self.browser.wait_idle()
        self.marker = uuid.uuid4().hex
        self.browser.evaluate("window.__scada_test_marker = %s" % json.dumps(self.marker))

    def assert_not_reloaded(self):
        assert self.browser.evaluate("window.__scada_test_marker") == self.marker, "the page was reloaded"

    def column_of(self, mo_name):
        """The title of the board column showing the card of `mo_name` (None: no card)."""
        return self.browser.evaluate(
            "(() => { for (const group of document.querySelectorAll('.o_kanban_group')) {"
            " for (const card of group.querySelectorAll('.o_scada_batch_card')) {"
            " if (card.innerText.includes(%s)) {"
            " return group.querySelector('.o_column_title').innerText.trim(); } } } return null; })()"
            % json.dumps(mo_name)
        )

    def wait_column(self, mo_name, column, timeout=20):
        self.browser.wait_until(
            "(() => { for (const group of document.querySelectorAll('.o_kanban_group')) {"
            " const title = group.querySelector('.o_column_title');"
            " if (!title || title.innerText.trim() !== %s) { continue; }"
            " for (const card of group.querySelectorAll('.o_scada_batch_card')) {"
            " if (card.innerText.includes(%s)) { return true; } } } return false; })()"
            % (json.dumps(column), json.dumps(mo_name)),
            timeout,
            "the card of %s in the column %r" % (mo_name, column),
        )

    def open_card(self, mo_name):
        self.browser.click(".o_kanban_record", text=mo_name)
        self.browser.wait(".o_form_view h1", text=mo_name, what="the batch form of %s" % mo_name)
        self.browser.wait_idle()

    def back_to_form(self, mo_name, batch_id):
        """Where the cancel wizard left the operator: back to the batch's form
        through the breadcrumbs if it went elsewhere.  False if the breadcrumbs
        did not bring the form back (then it is opened by its address)."""
        browser = self.browser
        time.sleep(0.5)
        browser.wait_idle()
        for _attempt in range(3):
            if browser.exists(".o_form_view h1", text=mo_name):
                return True
            if browser.exists(".breadcrumb-item a", text=mo_name):
                browser.click(".breadcrumb-item a", text=mo_name)
            with contextlib.suppress(AssertionError):
                browser.wait(".o_form_view h1", text=mo_name, timeout=3)
        browser.evaluate("window.location.hash = '#model=mo.batch&view_type=form&id=%d'" % batch_id)
        browser.wait(".o_form_view h1", text=mo_name, what="the form of %s again" % mo_name)
        return False

    def error_dialogs(self):
        """Error dialogs on the page: their titles and details."""
        return self.browser.evaluate(
            "[...document.querySelectorAll('.modal')].filter((m) => m.querySelector('.o_error_detail')"
            " || /error|eror/i.test((m.querySelector('.modal-title') || {}).innerText || ''))"
            ".map((m) => ((m.querySelector('.modal-title') || {}).innerText || '') + ': '"
            " + ((m.querySelector('.o_error_detail') || {}).textContent || m.innerText).slice(0, 600))"
        )

    def error_dialogs_within(self, seconds):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            dialogs = self.error_dialogs()
            if dialogs:
                return dialogs
            time.sleep(0.3)
        return []

    def archived_form_problems(self, mo_name):
        """The open form of `mo_name`'s batch, archived under the operator's
        eyes: an error dialog it shows within 4 s, as a problem (and closed)."""
        dialogs = self.error_dialogs_within(4)
        if not dialogs:
            return []
        self.close_dialogs()
        return ["the open form of %s, archived meanwhile, shows: %s" % (mo_name, dialogs)]

    def close_dialogs(self):
        self.browser.evaluate(
            "document.querySelectorAll('.modal .modal-footer .btn-primary').forEach((b) => b.click())"
        )

    def wait_form_says(self, english_pattern, indonesian_texts, timeout):
        """'id' once the form shows one of indonesian_texts, 'en' if it shows
        only the English (at the timeout), None if neither."""
        deadline = time.monotonic() + timeout
        english = None
        while time.monotonic() < deadline:
            text = _words(self.browser.text(".o_form_view"))
            if any(candidate in text for candidate in indonesian_texts):
                return "id"
            english = english or (re.search(english_pattern, text, re.I) and "en")
            time.sleep(0.3)
        return english

    def cancel_in_wizard(self, reason):
        """Cancel on the batch form, the reason typed into the wizard, confirmed."""
        self.browser.click(".o_form_statusbar button", text=indonesian("Cancel"))
        self.browser.wait(".modal .o_form_view", what="the cancel wizard")
        self.browser.fill(".modal .o_field_widget[name=reason]", reason)
        self.browser.click(".modal-footer button[name=action_cancel]")
        self.browser.wait(".modal .o_form_view", gone=True, what="the cancel wizard to close")
        self.browser.wait_idle()


def language_installed(server, code):
    """Whether users may choose the language.  The runner's transactions can
    cache the installed languages while the install commits (the cache is
    cleared inside the install's transaction), so the cache is cleared again."""
    if any(installed == code for installed, _name in server.rpc("res.lang", "get_installed")):
        return True
    # clear_caches is a method of records (no ids: Odoo's "tuple index out of
    # range", and the cache stayed); it answers None, which XML-RPC cannot send.
    with contextlib.suppress(xmlrpc.client.Fault):
        server.rpc("res.lang", "clear_caches", [])
    return False


@pytest.fixture(scope="module")
def console():
    cleanup = []
    try:
        simulator = Simulator(
            "console", "--batch-seconds", BATCH_SECONDS, "--fail-batch", FAIL_TAKE, "--seed", "5"
        )
        line = Line(simulator, "console")
        cleanup.append(line.close)
        database, server, plant = line.database, line.server, line.plant
        # The operator: a SCADA User reading Indonesian, without an e-mail address.
        wizard = server.rpc("base.language.install", "create", {"lang": "id_ID", "overwrite": True})
        server.rpc("base.language.install", "lang_install", [wizard])
        # The install loads every module's terms while the runner polls: 10 s was once too short on 2 cores.
        wait_for(lambda: language_installed(server, "id_ID"), 30, 0.5, "Indonesian to be installed")
        group = server.rpc("ir.model.data", "xmlid_to_res_id", "scada_plc_bridge.group_scada_user")
        operator_id = server.rpc(
            "res.users",
            "create",
            {
                "name": "Operator Lini",
                "login": OPERATOR,
                "password": OPERATOR,
                "lang": "id_ID",
                "tz": "Asia/Jakarta",
                "groups_id": [(4, group)],
            },
        )
        assert not server.rpc("res.users", "read", [operator_id], fields=["email"])[0]["email"]
        browser = Browser("http://127.0.0.1:%d" % server.port, name="console", width=1366, height=768)
        cleanup.append(browser.close)
        browser.login(OPERATOR, OPERATOR)
        yield Console(simulator, database, server, plant, operator_id, browser)
        assert not server.errors(), server.errors()[:5]
    finally:
        for item in reversed(cleanup):
            with contextlib.suppress(Exception):
                item()


# -- a: a card moves on the board as the PLC works ----------------------------------------
def test_a_running_card_leaves_the_board_when_the_plc_finishes(console):
    console.wait_queue_empty()
    console.open_board()
    [(production_id, name)] = console.confirm_mos(1)
    console.wait_column(name, indonesian("Running"))
    console.browser.wait(".o_scada_batch_card", text=name, gone=True, timeout=BATCH_SECONDS + 20)
    history = console.wait_history(production_id, "the history of %s" % name)
    assert history["status"] == "completed", history
    assert console.production_state(production_id) == "done"
    console.assert_not_reloaded()


# -- b and d: an alarm acknowledged; a recipe the PLC never took cancelled ---------------
@pytest.fixture(scope="module")
def wave_with_alarm(console):
    """Three batches: slot 1 fails on the line (the FAIL_TAKE-th take), slot 2 is
    written but not taken (its READ slot is blocked), slot 3 runs."""
    console.wait_queue_empty()
    console.open_board()
    console.block_slot(2)
    (failing, sent, running) = console.confirm_mos(3)
    yield {"failing": failing, "sent": sent, "running": running}
    console.unblock_slot(2)


def test_b_an_alarm_shows_in_the_banner_and_is_acknowledged(console, wave_with_alarm):
    browser = console.browser
    production_id, name = wave_with_alarm["failing"]
    row = (".o_scada_alarms .o_scada_alarm", name)
    browser.wait(*row, timeout=BATCH_SECONDS + 20, what="the alarm of %s in the banner" % name)
    # A board with cards in several columns and open alarms, for the docs.
    console.wait_column(wave_with_alarm["sent"][1], indonesian("Sent to PLC"))
    console.wait_column(wave_with_alarm["running"][1], indonesian("Running"))
    browser.wait_idle()
    browser.screenshot("console_board")
    assert console.history(production_id)["status"] == "cancelled"
    alarm = console.rpc(
        "scada.alarm", "search_read", [("production_id", "=", production_id)], fields=["state", "kind"]
    )
    assert [a["kind"] for a in alarm] == ["auto_cancel"], alarm
    assert alarm[0]["state"] == "open"
    browser.click(".o_scada_acknowledge", within=row)
    browser.wait(*row, gone=True, what="the alarm of %s to leave the banner" % name)
    alarm = console.rpc(
        "scada.alarm", "read", [alarm[0]["id"]], fields=["state", "acknowledged_by_id", "date_acknowledged"]
    )[0]
    assert alarm["state"] == "acknowledged", alarm
    assert alarm["acknowledged_by_id"][0] == console.operator_id, alarm
    assert alarm["date_acknowledged"], alarm
    console.assert_not_reloaded()


def test_d_cancel_of_a_recipe_the_plc_has_not_taken_clears_its_write_slot(console, wave_with_alarm):
    browser = console.browser
    production_id, name = wave_with_alarm["sent"]
    batch = console.wait_batch(production_id, "the batch of %s" % name)
    plc_ref, slot = batch["plc_ref"], batch["slot"]
    assert slot == 2, batch
    console.wait_batch(production_id, "%s written to the PLC" % name, lambda b: b["state"] == "sent")
    assert console.slot("write", slot)["mo_id"] == plc_ref, "the recipe waits in the WRITE slot"
    if not browser.exists(".o_scada_board"):
        console.open_board()
    console.open_card(name)
    browser.wait_idle()
    browser.screenshot("console_batch_form")
    console.cancel_in_wizard("Silo B tersumbat (test)")
    # The poller clears the WRITE slot first, then the batch is archived as cancelled.
    history = console.wait_history(production_id, "%s archived" % name, timeout=15)
    assert history["status"] == "cancelled", history
    assert "Silo B tersumbat (test)" in (history["notes"] or ""), history
    assert console.production_state(production_id) == "cancel"
    write_slot = console.slot("write", slot)
    assert write_slot["mo_id"] != plc_ref, "WRITE slot %s still holds %s after the cancel: %s" % (
        slot,
        plc_ref,
        write_slot,
    )
    # The line is freed: it takes nothing of the cancelled batch.
    console.write_slot("read", slot, None)
    time.sleep(2)
    assert console.takes(plc_ref) == 0, "the PLC took the cancelled recipe %s" % plc_ref
    console.assert_not_reloaded()


# -- c: Send to PLC answers at once and writes once ------------------------------------------
def test_c_send_to_plc_returns_at_once_and_the_plc_takes_the_recipe_once(console):
    browser = console.browser
    problems = []
    console.wait_queue_empty(timeout=BATCH_SECONDS + 30)
    console.block_slot(1, with_recipe=True)
    try:
        [(production_id, name)] = console.confirm_mos(1)
        batch = console.wait_batch(
            production_id, "%s refused by the busy WRITE slot" % name, lambda b: b["last_error"]
        )
        assert batch["state"] == "queued", batch
        plc_ref = batch["plc_ref"]
        console.open_board()
        console.wait_column(name, indonesian("Queued"))
        browser.wait(".o_scada_card_reason", within=(".o_scada_batch_card", name))
        console.open_card(name)
        send = ".o_form_statusbar .o_statusbar_buttons button[name=action_send_to_plc]"
        assert browser.text(send).strip().lower() == indonesian("Send to PLC").lower()
        timings = [press_and_time(browser, send) for _press in range(3)]
        slow = [t for t in timings if t["ms"] is None or t["ms"] >= 1000]
        assert not slow, "Send to PLC kept the UI busy: %s" % timings
        assert all(t["busy_seen"] for t in timings), "the press did nothing visible: %s" % timings
        # The poller answers each press (the slot is still busy: failed, sticky).
        wait_for(lambda: len(console.send_requests("failed")) == 3, 15, 0.5, "the three sends answered")
        time.sleep(1.5)
        answers = browser.evaluate(
            "[...document.querySelectorAll('.o_notification')].filter((n) => n.innerText.includes('HOLD-W1'))"
            ".length"
        )
        if answers != 3:
            problems.append("3 presses answered by %s failure notifications, expected 3" % answers)
        browser.evaluate("document.querySelectorAll('.o_notification_close').forEach((b) => b.click())")
    finally:
        console.unblock_slot(1)
    # The line is free: the recipe is written and taken, once, however often it was sent.
    wait_for(lambda: console.takes(plc_ref), 15, 0.3, "the PLC to take %s" % plc_ref)
    browser.wait(".o_form_statusbar .o_statusbar_status button.btn-primary", text=indonesian("Running"))
    console.wait_history(production_id, "%s finished" % name, timeout=BATCH_SECONDS + 20)
    time.sleep(2)
    assert console.takes(plc_ref) == 1, console.simulator.stats().get("takes_by_mo")
    assert len(console.send_requests()) == 3
    # The open form of the batch, archived under the operator's eyes.
    problems += console.archived_form_problems(name)
    console.assert_not_reloaded()
    assert not problems, problems


def press_and_time(browser, selector):
    """Click the button in the page and measure until the form is usable again
    (its buttons enabled, nothing blocking) and the press has been answered
    with a notification: {ms, busy_seen}."""
    result = browser.evaluate(
        "new Promise((resolve) => {"
        " const button = document.querySelector(%s);"
        " let notified = false, busySeen = false;"
        " const observer = new MutationObserver((changes) => { for (const change of changes) {"
        "   for (const node of change.addedNodes) {"
        "     if (node.nodeType === 1 && (node.matches('.o_notification')"
        "         || node.querySelector('.o_notification'))) { notified = true; } } } });"
        " observer.observe(document.body, {childList: true, subtree: true});"
        " const started = performance.now();"
        " button.click();"
        " const check = () => {"
        "   const buttons = [...document.querySelectorAll('.o_form_statusbar .o_statusbar_buttons button')];"
        "   const busy = buttons.some((b) => b.disabled) || !!document.querySelector('.o_blockUI');"
        "   busySeen = busySeen || busy;"
        "   const elapsed = performance.now() - started;"
        "   if (!busy && notified) { observer.disconnect(); resolve({ms: elapsed, busy_seen: busySeen}); }"
        "   else if (elapsed > 10000) { observer.disconnect(); resolve({ms: null, busy_seen: busySeen}); }"
        "   else { setTimeout(check, 5); } };"
        " check(); })" % json.dumps(selector)
    )
    browser.wait_idle()
    return result


# -- e: a running batch cannot be stopped; what it dosed still reaches stock -------------------
def test_e_cancel_of_a_running_batch_waits_for_the_plc_and_books_its_consumption(console):
    browser = console.browser
    problems = []
    console.wait_queue_empty(timeout=BATCH_SECONDS + 30)
    console.open_board()
    [(production_id, name)] = console.confirm_mos(1)
    console.wait_column(name, indonesian("Running"))
    batch = console.batch(production_id)
    plc_ref, slot = batch["plc_ref"], batch["slot"]
    console.open_card(name)
    console.cancel_in_wizard("Dibatalkan saat berjalan (test)")
    assert console.history(production_id) is None, "a running batch was archived at once"
    if not console.back_to_form(name, batch["id"]):
        problems.append(
            "after the cancel wizard, the breadcrumb back to %s did not bring its form back" % name
        )
    # The form says that the line cannot be stopped from Odoo, in Indonesian.
    said = console.wait_form_says(CANNOT_STOP_EN, indonesian_all(CANNOT_STOP_EN), timeout=8)
    if said != "id":
        problems.append(
            "the batch form of a running batch does not say in Indonesian that the PLC cannot stop it"
            " (%s; Indonesian in id.po: %s)"
            % (
                "it says so in English" if said == "en" else "it does not say so at all",
                " | ".join(indonesian_all(CANNOT_STOP_EN)) or "none",
            )
        )
    browser.wait_idle()
    browser.screenshot("console_batch_cancel_running")
    # The PLC finishes the batch; what it dosed reaches stock, and its slot is acknowledged.
    history = console.wait_history(
        production_id, "%s recorded after the PLC's report" % name, BATCH_SECONDS + 20
    )
    report = wait_for(
        lambda: (lambda fields: fields if fields["status_read_data"] else None)(console.slot("read", slot)),
        10,
        0.5,
        "READ slot %s acknowledged" % slot,
    )
    assert report["mo_id"] == plc_ref, report
    dosed = {tag: report["actual_consumption_" + tag] for tag in ("silo_a", "silo_d", "lq114")}
    assert all(dosed.values()), report
    booked = booked_consumption(console, production_id, name)
    assert booked == pytest.approx(dosed, abs=0.01), "stock got %s, the PLC dosed %s (history %s)" % (
        booked,
        dosed,
        history,
    )
    assert "Dibatalkan saat berjalan (test)" in (history["notes"] or ""), history
    assert console.takes(plc_ref) == 1
    # The form stayed open while the batch was archived under it.
    problems += console.archived_form_problems(name)
    console.assert_not_reloaded()
    assert not problems, problems


def booked_consumption(console, production_id, name):
    """What reached stock for the MO's components, by silo: its raw moves done,
    or scrapped material of the MO."""
    moves = console.rpc(
        "stock.move",
        "search_read",
        [("raw_material_production_id", "=", production_id), ("state", "=", "done")],
        fields=["product_id", "quantity_done"],
    )
    scraps = console.rpc(
        "stock.scrap",
        "search_read",
        ["|", ("production_id", "=", production_id), ("origin", "=", name), ("state", "=", "done")],
        fields=["product_id", "scrap_qty"],
    )
    booked = {}
    for product, quantity in [(m["product_id"][1], m["quantity_done"]) for m in moves] + [
        (s["product_id"][1], s["scrap_qty"]) for s in scraps
    ]:
        tag = SILO_OF_COMPONENT[product]
        booked[tag] = booked.get(tag, 0.0) + quantity
    return booked


# -- y: the supervisor's dashboard, after the run's batches ------------------------------
DASHBOARD = "/web#action=scada_plc_bridge.scada_line_dashboard_action"


# -- x: a silo card's level falls as the line doses from it --------------------------------
def test_x_a_silo_cards_level_falls_when_a_batch_doses_from_it(console):
    """The line's silos kept as stock, 500 kg of its corn counted into silo D:
    the silo levels, loaded once, show what is left after a batch, unreloaded."""
    rpc, plc_id = console.rpc, console.plant.plc_id
    corn = console.plant.components["silo_d"]
    rpc("scada.plc", "write", [plc_id], {"silo_stock": True})
    rpc("scada.plc", "action_create_silo_locations", [plc_id])
    [silo] = rpc(
        "scada.silo",
        "search_read",
        [("plc_id", "=", plc_id), ("tag", "=", "silo_d")],
        fields=["name", "location_id"],
    )
    rpc("scada.silo", "write", [silo["id"]], {"product_id": corn, "capacity_kg": 1000.0})
    location = silo["location_id"][0]
    count = rpc(
        "stock.inventory",
        "create",
        {
            "name": "Fill silo D",
            "location_ids": [(6, 0, [location])],
            "start_empty": True,
            "line_ids": [(0, 0, {"product_id": corn, "location_id": location, "product_qty": 500.0})],
        },
    )
    rpc("stock.inventory", "action_start", [count])
    rpc("stock.inventory", "action_validate", [count])
    console.wait_queue_empty()
    console.open_once(SILO_LEVELS, ".o_scada_silo_card")
    on_hand = (
        "(() => { for (const card of document.querySelectorAll('.o_scada_silo_card')) {"
        " if (card.innerText.includes(%s)) {"
        " return card.querySelector('.o_scada_silo_on_hand').innerText.trim(); } } return null; })()"
        % json.dumps(silo["name"])
    )
    full = console.browser.evaluate(on_hand)
    assert full and "500" in full, full
    [(production_id, name)] = console.confirm_mos(1)
    console.wait_history(production_id, "the history of %s" % name, timeout=BATCH_SECONDS + 30)
    console.browser.wait_until(
        "%s !== %s" % (on_hand, json.dumps(full)), BATCH_SECONDS, "silo D's card to show less"
    )
    [left] = rpc("scada.silo", "read", [silo["id"]], fields=["on_hand_kg"])
    dosed = rpc(
        "mo.history",
        "search_read",
        [("production_id", "=", production_id)],
        fields=["actual_consumption_silo_d"],
    )
    assert left["on_hand_kg"] == pytest.approx(500.0 - dosed[0]["actual_consumption_silo_d"]), (left, dosed)
    assert 0 < left["on_hand_kg"] < 500.0
    console.assert_not_reloaded()
    assert not console.browser.console_errors, console.browser.console_errors[:5]


def test_y_the_line_dashboard_counts_the_runs_batches_and_opens_them(console):
    """The card of the line in Indonesian: today's and the shift's figures;
    the count of batches done is the run's, and a click lists exactly those."""
    browser, rpc = console.browser, console.rpc
    browser.goto(DASHBOARD, ready=".o_scada_dashboard_card")
    browser.wait_idle()
    today = ".o_scada_dashboard_period[data-period=today]"
    browser.wait(today + " .o_scada_period_label", text=indonesian("Today"))
    browser.wait(
        ".o_scada_dashboard_period[data-period=shift] .o_scada_period_label", text=indonesian("Shift")
    )
    for label in ("Done", "Produced (kg)", "Median cycle (min)", "Downtime (min)"):
        browser.wait(today, text=indonesian(label), what="%r in Indonesian" % label)
    completed = rpc(
        "mo.history",
        "search_read",
        [("plc_id", "=", console.plant.plc_id), ("status", "=", "completed")],
        fields=["mo_reference"],
    )
    done = int(browser.text(today + " a[data-figure=done]").strip())
    # All of the run's batches, unless the run crossed midnight in the plant's time zone.
    assert 1 <= done <= len(completed), (done, len(completed))
    browser.screenshot("console_line_dashboard")
    browser.click(today + " a[data-figure=done]")
    browser.wait(".o_list_view .o_data_row", what="the batches done today")
    browser.wait(".o_control_panel .breadcrumb", text=indonesian("Batches done"))
    browser.wait_idle()
    rows = browser.texts(".o_list_view .o_data_row")
    assert len(rows) == done, rows
    references = {history["mo_reference"] for history in completed}
    assert all(any(reference in row for reference in references) for row in rows), rows
    assert not browser.console_errors, browser.console_errors[:5]


# -- the alarms list, last: every alarm of the run ----------------------------------------
def test_z_alarms_list_shows_who_acknowledged(console):
    browser = console.browser
    browser.goto(ALARMS, ready=".o_list_view")
    browser.wait_idle()
    # The default filter shows the open ones; all of them, for the picture.
    browser.click(".o_searchview_facet .o_facet_remove")
    browser.wait(".o_list_view .o_data_row", text="Operator Lini")
    browser.wait_idle()
    browser.screenshot("console_alarms")
    assert not browser.console_errors, browser.console_errors[:5]
    assert (SCREENSHOTS / "console_board.png").exists()
