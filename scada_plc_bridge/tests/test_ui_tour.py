"""The operator UI in a real browser: Debian's Chromium, headless, driven by
Odoo's tour runner, logged in as a SCADA User.  Screenshots of the kanban,
the batch form, the deviation colours and the consumption pivot land in
<repository>/screenshots/ (git-ignored) on every run;
scripts/refresh_screenshots.sh copies them to docs/.

Also access over real HTTP: JSON-RPC calls of `/web/dataset/call_kw` as
each group's logged-in session.  Every refusal must come back as an
AccessError (a message for the user), never as a traceback.  All HTTP
tests live in this one module: pytest-odoo starts a web server per module
on Odoo 14, and a second module's server was seen refusing connections."""

import base64
import json
import os
import re
import shutil
import socket
import subprocess
import tempfile
import time
from datetime import timedelta
from unittest.mock import patch
from urllib.parse import quote

from odoo import fields
from odoo.service import server as odoo_server
from odoo.service import wsgi_server
from odoo.tests import HttpCase, new_test_user, tagged
from odoo.tests.common import HOST, ChromeBrowser, Form
from odoo.tools import config

from ..const import ARCHIVE_CONTEXT_KEY
from ..plclib.simulator import PlcSimulator
from ..rules import plant_shift
from ..runner.cycle import PlcCycle
from .common import ScadaCase, in_test_transaction, plc_reports

SCREENSHOT_DIR = os.path.join(
    os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "screenshots"
)
# This machine has no outside network: keep Chromium from calling home.
OFFLINE_SWITCHES = [
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


class JsonRpcSession:
    """A logged-in user's web client: JSON-RPC as the views call it, and
    the report download as Odoo 14's action manager does it."""

    def __init__(self, case, login):
        self.case = case
        case.authenticate(login, login)
        user = case.env["res.users"].search([("login", "=", login)])
        self.user_context = {
            "lang": user.lang or "en_US",
            "tz": user.tz or False,
            "uid": user.id,
            "allowed_company_ids": user.company_id.ids,
        }

    def answer(self, route, params):
        payload = {"jsonrpc": "2.0", "method": "call", "id": 1, "params": params}
        response = self.case.url_open(
            route, data=json.dumps(payload), headers={"Content-Type": "application/json"}, timeout=60
        )
        self.case.assertEqual(response.status_code, 200, "a refusal is an answer, not an error page")
        return response.json()

    def result(self, route, params):
        answer = self.answer(route, params)
        error = answer.get("error") or {}
        self.case.assertFalse(error, "%s: %s" % (params["method"], error.get("data", {}).get("message")))
        return answer["result"]

    def call_kw(self, model, method, *args, **kwargs):
        params = {"model": model, "method": method, "args": list(args), "kwargs": kwargs}
        return self.result("/web/dataset/call_kw/%s/%s" % (model, method), params)

    def call_button(self, model, method, ids, context):
        params = {"model": model, "method": method, "args": [ids], "kwargs": {"context": context}}
        return self.result("/web/dataset/call_button", params)

    def csrf_token(self):
        page = self.case.url_open("/web", timeout=60).text
        match = re.search(r'csrf_token\s*:\s*"([0-9a-f]+o[0-9]*)"', page)
        self.case.assertTrue(match, "no CSRF token in the web client's page")
        return match.group(1)

    def download_report(self, action):
        """_makeReportUrls and _downloadReport of web's action_manager_report.js (qweb-pdf)."""
        url = "/report/pdf/" + action["report_name"]
        if action.get("data"):
            url += "?options=%s&context=%s" % (
                quote(json.dumps(action["data"]), safe=""),
                quote(json.dumps(action["context"]), safe=""),
            )
        elif action["context"].get("active_ids"):
            url += "/" + ",".join(str(i) for i in action["context"]["active_ids"])
        response = self.case.url_open(
            "/report/download",
            data={
                "data": json.dumps([url, "qweb-pdf"]),
                "context": json.dumps(self.user_context),
                "token": "dummy-because-api-expects-one",
                "csrf_token": self.csrf_token(),
            },
            timeout=120,
        )
        self.case.assertEqual(response.status_code, 200)
        self.case.assertIn(".pdf", response.headers.get("Content-Disposition", ""), response.text[:2000])
        if response.content.startswith(b"%PDF"):
            return response.content
        # Odoo 14 in test mode answers the HTML that wkhtmltopdf would print:
        # a request on the test cursor cannot wait for wkhtmltopdf fetching
        # the styles from the same server.  Print it with the same wkhtmltopdf.
        self.case.assertIn(b"<html", response.content[:2000])
        return self.case.env["ir.actions.report"]._run_wkhtmltopdf([response.content])


class OfflineChromeBrowser(ChromeBrowser):
    def _spawn_chrome(self, cmd):
        return super()._spawn_chrome(cmd[:-1] + OFFLINE_SWITCHES + cmd[-1:])


def serve_http():
    """The test HTTP server, answering on its port.  pytest-odoo starts Odoo
    14's server for each test module with server.start(stop=True), whose
    stop() shuts the HTTP server down again when its thread bound the port
    before stop() looked (it depends on timing): then nothing answers and
    every browser test of the module sees "connection refused".  The same
    server of Odoo is then served again here."""
    address = (HOST, config["http_port"])
    with socket.socket() as probe:
        if probe.connect_ex(address) == 0:
            return
    odoo_server.ThreadedServer(wsgi_server.application).http_spawn()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(address) == 0:
                return
        time.sleep(0.05)
    raise AssertionError("the test HTTP server does not answer on %s:%s" % address)


class ScadaBrowserCase(HttpCase):
    """Debian's Chromium without network, and screenshots of pages as the
    SCADA User sees them (shared by the tour tests)."""

    browser_size = "1366,900"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        serve_http()

    @classmethod
    def start_browser(cls):
        if cls.browser is None:
            cls.browser = OfflineChromeBrowser(cls._logger, cls.browser_size, cls.__name__)
            cls.addClassCleanup(cls.terminate_browser)

    def capture_screens(self, *pages, login="shift_supervisor"):
        """Screenshots of (name, url, CSS selector that shows it rendered), as `login` sees them."""
        self.start_browser()
        self.authenticate(login, login)
        base_url = "http://%s:%s" % (HOST, config["http_port"])
        self.env["base"].flush()  # the browser reads through the test cursor
        try:
            for name, url, selector in pages:
                self.browser.navigate_to(base_url + url)
                ready = (
                    "!!document.querySelector(%r) && ![...document.querySelectorAll('.o_loading')]"
                    ".some(e => e.offsetParent !== null)" % selector
                )
                self.assertTrue(self.browser._wait_ready(ready), "%s did not render" % name)
                self._save_screenshot(name)
        finally:
            self.browser.delete_cookie("session_id", domain=HOST)
            self.browser.clear()
            # As browser_js does: the page's last requests share this test's
            # cursor, so let them end before the test goes on.
            self._wait_remaining_requests()
            self.env.cache.invalidate()

    def _save_screenshot(self, name):
        os.makedirs(SCREENSHOT_DIR, exist_ok=True)
        request_id = self.browser._websocket_send("Page.captureScreenshot", params={"format": "png"})
        data = self.browser._websocket_wait_id(request_id).get("result", {}).get("data")
        self.assertTrue(data, "Chromium returned no screenshot")
        with open(os.path.join(SCREENSHOT_DIR, name + ".png"), "wb") as handle:
            handle.write(base64.b64decode(data))


@tagged("post_install", "-at_install")
class TestOperatorTour(ScadaBrowserCase):
    def setUp(self):
        super().setUp()
        self.simulator = PlcSimulator().start()
        self.addCleanup(self.simulator.stop)
        # Reuse the queue fixtures of the model tests on this test's environment.
        fixtures = type("TourFixtures", (ScadaCase,), {})
        fixtures.env = self.env
        fixtures.plc = self.env["scada.plc"].create(
            {"name": "Tour line", "code": "TOUR01", "port": self.simulator.port, "timeout": 0.5}
        )
        self.env["ir.config_parameter"].sudo().set_param("scada_plc_bridge.default_plc_id", fixtures.plc.id)
        self.fixtures = fixtures
        self.user = new_test_user(
            self.env,
            "shift_supervisor",
            groups="scada_plc_bridge.group_scada_user",
            password="shift_supervisor",
            name="Shift Supervisor",
        )

    def _batch_for(self, product_name):
        kg = self.env.ref("uom.product_uom_kgm")
        silo = self.fixtures.plc.silo_ids.filtered(lambda s: s.tag == "silo_c")
        corn, feed = (
            self.env["product.product"].create(
                {"name": name, "type": "product", "uom_id": kg.id, "uom_po_id": kg.id}
            )
            for name in ("TOUR CORN", product_name)
        )
        bom = self.env["mrp.bom"].create(
            {
                "product_tmpl_id": feed.product_tmpl_id.id,
                "product_qty": 1000,
                "product_uom_id": kg.id,
                "bom_line_ids": [
                    (0, 0, {"product_id": corn.id, "product_qty": 1000, "scada_silo_id": silo.id})
                ],
            }
        )
        self.fixtures.confirmed_mo(1000, bom=bom)
        self.env["scada.task.sync"]._sync_mo(self.fixtures.plc)
        return self.env["mo.batch"].search([("product_id", "=", feed.id)]), corn

    def test_retry_push_of_a_batch_odoo_refused(self):
        batch, corn = self._batch_for("TOUR RETRY FEED")
        production = batch.production_id
        plc_reports(
            self.simulator,
            batch,
            actual_consumption_silo_c=1003.5,
            actual_weight_quantity_finished_goods=1003.5,
            status_manufacturing=True,
        )
        # Odoo refuses: the component is lot-tracked and the line knows no lots.
        corn.tracking = "lot"
        for _read in range(2):  # finished is taken when two reads agree
            PlcCycle(self.fixtures.plc.id, in_test_transaction(self.env)).run()
        self.assertEqual(batch.state, "push_failed")
        self.capture_screens(
            ("kanban", "/web#action=scada_plc_bridge.mo_batch_action", ".o_kanban_view .o_kanban_record"),
            (
                "batch_form",
                "/web#model=mo.batch&view_type=form&id=%d" % batch.id,
                ".o_form_view .o_scada_consumption",
            ),
        )
        corn.tracking = "none"  # the cause is fixed; the supervisor retries
        self.start_tour(
            "/web#action=scada_plc_bridge.mo_batch_action", "scada_retry_push_tour", login="shift_supervisor"
        )
        history = self.env["mo.history"].search([("production_id", "=", production.id)])
        self.assertEqual(history.status, "completed")
        self.assertEqual(production.state, "done")
        self.assertFalse(batch.exists())

    def test_cancel_a_batch_with_a_reason(self):
        batch, _corn = self._batch_for("TOUR CANCEL FEED")
        production = batch.production_id
        self.start_tour(
            "/web#action=scada_plc_bridge.mo_batch_action",
            "scada_cancel_batch_tour",
            login="shift_supervisor",
        )
        PlcCycle(self.fixtures.plc.id, in_test_transaction(self.env)).run()  # the poller carries it out
        history = self.env["mo.history"].search([("production_id", "=", production.id)])
        self.assertEqual(history.status, "cancelled")
        self.assertIn("Silo C blocked by caking", history.notes)
        self.assertEqual(production.state, "cancel")

    def test_the_menu_count_follows_the_board(self):
        self.env["scada.alarm"]._raise("plc_silent", self.fixtures.plc, "no answer for the menu tour")
        self.start_tour(
            "/web#action=scada_plc_bridge.mo_batch_action",
            "scada_live_menu_count_tour",
            login="shift_supervisor",
        )
        self.assertFalse(self.env["scada.alarm"].search([("state", "=", "open")]))

    def test_a_batch_archived_while_its_form_reloads_opens_its_history(self):
        """The line archives the batch between the form's reads of the batch
        and of its chatter and lists (a full CI run had it: the form showed
        Odoo's client error).  The test puts the archive in that gap: the
        batch's read answers, then the batch is cancelled and archived the way
        the poller does, before the browser's next read."""
        batch, _corn = self._batch_for("TOUR ARCHIVED FEED")
        production = batch.production_id
        batch_class = type(self.env["mo.batch"])
        read = batch_class.read
        form_reads = []

        def read_then_archive(records, fields=None, load="_classic_read"):
            result = read(records, fields, load)
            if records.ids == batch.ids and "consumption_html" in (fields or ()):
                form_reads.append(records.ids)
                if len(form_reads) == 2:  # the live reload, after the form's first load
                    records.env["scada.task.finish"]._cancel_and_archive(records, "archived under the form")
            return result

        with patch.object(batch_class, "read", read_then_archive):
            self.start_tour(
                "/web#model=mo.batch&view_type=form&id=%d" % batch.id,
                "scada_archived_while_reloading_tour",
                login="shift_supervisor",
            )
        self.assertEqual(len(form_reads), 2, "the form's load and its live reload")
        history = self.env["mo.history"].search([("production_id", "=", production.id)])
        self.assertEqual(history.status, "cancelled")
        self.assertFalse(batch.exists())


@tagged("post_install", "-at_install")
class TestReportTours(ScadaBrowserCase):
    """The reports in the browser: the consumption pivot, the batch form's
    tolerance colours, the day report's PDF (rendered by wkhtmltopdf, read back
    with pdftotext) and the consumption report for a supervisor who reads
    Indonesian.  In this module with the other tours: pytest-odoo starts an
    HTTP server per test module on Odoo 14, and a second module's server was
    found refusing connections."""

    def setUp(self):
        super().setUp()
        self.simulator = PlcSimulator().start()
        self.addCleanup(self.simulator.stop)
        self.plc = self.env["scada.plc"].create(
            {"name": "Report line", "code": "RPT01", "port": self.simulator.port, "timeout": 0.5}
        )
        self.env["ir.config_parameter"].sudo().set_param("scada_plc_bridge.default_plc_id", self.plc.id)
        self.env.company.partner_id.tz = "Asia/Jakarta"
        self.user = new_test_user(
            self.env,
            "shift_supervisor",
            groups="scada_plc_bridge.group_scada_user",
            password="shift_supervisor",
            name="Shift Supervisor",
            tz="Asia/Jakarta",
        )
        kg = self.env.ref("uom.product_uom_kgm")
        silos = {silo.tag: silo for silo in self.plc.silo_ids}

        def product(name):
            return self.env["product.product"].create(
                {"name": name, "type": "product", "uom_id": kg.id, "uom_po_id": kg.id}
            )

        self.corn, self.copra, self.molasses, self.leftover = (
            product(name) for name in ("TOUR CORN", "TOUR COPRA", "TOUR MOLASSES", "TOUR LEFTOVER")
        )
        self.feed = product("TOUR FEED")
        self.bom = self.env["mrp.bom"].create(
            {
                "product_tmpl_id": self.feed.product_tmpl_id.id,
                "product_qty": 1000,
                "product_uom_id": kg.id,
                "bom_line_ids": [
                    (0, 0, {"product_id": p.id, "product_qty": qty, "scada_silo_id": silos[tag].id})
                    for p, qty, tag in (
                        (self.corn, 600, "silo_d"),
                        (self.copra, 350, "silo_b"),
                        (self.molasses, 50, "lq114"),
                    )
                ],
            }
        )
        silos["silo_a"].product_id = self.leftover  # only a cancelled batch used it

    def production(self):
        form = Form(self.env["mrp.production"])
        form.product_id = self.feed
        form.bom_id = self.bom
        form.product_qty = 1000
        production = form.save()
        production.action_confirm()
        return production

    def archived(self, status="completed", **values):
        production = self.production()
        record = {
            "batch_no": 7000 + production.id,
            "mo_reference": production.name,
            "production_id": production.id,
            "plc_id": self.plc.id,
            "equipment": self.plc.code,
            "slot": 1,
            "finished_goods": self.feed.display_name,
            "planned_quantity": 1000.0,
            "consumption_silo_d": 600.0,
            "consumption_silo_b": 350.0,
            "consumption_lq114": 50.0,
            "actual_consumption_silo_d": 601.75,
            "actual_consumption_silo_b": 350.0,
            "actual_consumption_lq114": 50.0,
            "actual_weight_quantity_finished_goods": 1001.75,
            "status_manufacturing": status == "completed",
            "status": status,
            "notes": "Finished by the PLC.",
            "date_archived": fields.Datetime.now(),
            "date_plc_write": fields.Datetime.now() - timedelta(minutes=20),
        }
        record.update(values)
        return self.env["mo.history"].with_context(**{ARCHIVE_CONTEXT_KEY: True}).sudo().create(record)

    def two_completed_and_an_auto_cancel(self):
        done = self.archived() | self.archived(actual_consumption_silo_d=601.75)
        failed = self.archived(
            status="cancelled",
            status_operation=True,
            actual_consumption_silo_d=0.0,
            actual_consumption_silo_a=44.0,
            notes="Auto-cancelled: the PLC reported the batch as failed",
        )
        return done, failed

    def test_consumption_pivot_materials_by_day_completed_only(self):
        self.two_completed_and_an_auto_cancel()
        self.start_tour(
            "/web#action=scada_plc_bridge.scada_consumption_report_action",
            "scada_consumption_pivot_tour",
            login="shift_supervisor",
        )
        self.capture_screens(
            (
                "consumption_pivot",
                "/web#action=scada_plc_bridge.scada_consumption_report_action",
                ".o_pivot table",
            )
        )

    def test_batch_form_colours_deviation_by_tolerance(self):
        production = self.production()
        self.env["scada.task.sync"]._sync_mo(self.plc)
        batch = self.env["mo.batch"].search([("production_id", "=", production.id)])
        plc_reports(
            self.simulator,
            batch,
            actual_consumption_silo_d=600.03,
            actual_consumption_silo_b=350.2,
            actual_consumption_lq114=80.0,  # 30 kg over plan
            actual_weight_quantity_finished_goods=1030.23,
            status_manufacturing=True,
        )
        for _read in range(2):  # 'finished' is taken when two reads agree
            PlcCycle(self.plc.id, in_test_transaction(self.env)).run()
        self.assertTrue(batch.status_manufacturing)
        url = "/web#model=mo.batch&view_type=form&id=%d" % batch.id
        self.start_tour(url, "scada_deviation_colours_tour", login="shift_supervisor")
        self.capture_screens(("batch_deviation", url, ".o_scada_consumption tr.o_scada_outside"))

    def test_day_report_pdf_from_the_plc_form(self):
        done, failed = self.two_completed_and_an_auto_cancel()
        self.start_tour(
            "/web#model=scada.plc&view_type=form&id=%d" % self.plc.id,
            "scada_day_report_tour",
            login="shift_supervisor",
        )
        wizard = self.env["scada.day.report.wizard"].search([], order="id desc", limit=1)
        self.assertEqual(wizard.plc_id, self.plc, "the wizard proposes the PLC of the form")
        # The PDF itself: wkhtmltopdf fetches the styles from this test's server.
        self.env["ir.config_parameter"].sudo().set_param(
            "report.url", "http://%s:%s" % (HOST, config["http_port"])
        )
        today = self.env["report.scada_plc_bridge.report_scada_day_sheet"]._get_report_values(self.plc.ids)[
            "sheets"
        ][0]["date_from"]
        report = self.env.ref("scada_plc_bridge.action_report_scada_day_sheet")
        pdf, kind = (
            report.with_user(self.user)
            .with_context(force_report_rendering=True)
            ._render_qweb_pdf(self.plc.ids, data={"date_from": str(today), "date_to": str(today)})
        )
        self.assertEqual(kind, "pdf")
        self.assertTrue(pdf.startswith(b"%PDF"))
        text = self.pdf_text(pdf)
        for history in done | failed:
            self.assertIn(history.mo_reference, text)
        lines = text.splitlines()
        corn = [line for line in lines if "TOUR CORN" in line]
        self.assertEqual(len(corn), 1, "one consumption line per material")
        self.assertRegex(corn[0], r"1,200\.00\s+1,203\.50\s+\+3\.50\s+\+0\.3 %")
        self.assertFalse([line for line in lines if "TOUR LEFTOVER" in line], "completed batches only")
        self.assertIn("Auto-cancelled: the PLC reported", text)
        self.assertIn("Cancelled (PLC failure)", text)
        self.assertIn("Asia/Jakarta", text)

    def test_day_report_pdf_over_http_from_the_menu_and_the_plc_form(self):
        """What the web client does: the wizard's default_get, create and
        Print over JSON-RPC, then /report/download; the PDF is never blank."""
        done, _failed = self.two_completed_and_an_auto_cancel()
        self.env["ir.config_parameter"].sudo().set_param(
            "report.url", "http://%s:%s" % (HOST, config["http_port"])
        )
        rpc = JsonRpcSession(self, "shift_supervisor")
        for name, extra in (
            ("menu", {}),
            ("PLC form", {"active_model": "scada.plc", "active_id": self.plc.id, "active_ids": self.plc.ids}),
        ):
            with self.subTest(opened_from=name):
                context = dict(rpc.user_context, **extra)
                wizard = "scada.day.report.wizard"
                defaults = rpc.call_kw(
                    wizard, "default_get", ["plc_id", "date_from", "date_to"], context=context
                )
                self.assertEqual(defaults["plc_id"], self.plc.id)
                wizard_id = rpc.call_kw(wizard, "create", defaults, context=context)
                action = rpc.call_button(wizard, "action_print", [wizard_id], context=context)
                self.assertEqual(action["type"], "ir.actions.report")
                text = self.pdf_text(rpc.download_report(action))
                self.assertIn(self.plc.name, text)
                for history in done:
                    self.assertIn(history.mo_reference, text)

    def test_batch_ticket_and_per_shift_day_report_pdfs(self):
        """The batch ticket of a history record and the day report's per-shift
        variant, as wkhtmltopdf prints them."""
        self.two_completed_and_an_auto_cancel()
        self.env["ir.config_parameter"].sudo().set_param(
            "report.url", "http://%s:%s" % (HOST, config["http_port"])
        )
        # Graded when archived (Task 3 stores the grades on the history).
        history = self.archived(accuracy_grade="warning", accuracy_grade_silo_d="normal")
        ticket = self.env.ref("scada_plc_bridge.action_report_history_ticket").with_user(self.user)
        pdf, _kind = ticket.with_context(force_report_rendering=True)._render_qweb_pdf(history.ids)
        text = self.pdf_text(pdf)
        self.assertIn("Batch ticket %s" % history.mo_reference, text)
        lines = text.splitlines()
        corn = [line for line in lines if "TOUR CORN" in line]
        self.assertEqual(len(corn), 1, "one line per silo")
        self.assertRegex(corn[0], r"600\.00\s+601\.75\s+\+1\.75\s+\+0\.3 %\s+Normal")
        self.assertRegex(text, r"Accuracy:\s+Warning")
        for heading in ("Recipe and actuals", "Times", "Manual weighings", "Who did what"):
            self.assertIn(heading, text)
        self.assertIn("Finished by the PLC.", text, "the history's note, under who did what")

        today = str(
            self.env["report.scada_plc_bridge.report_scada_day_sheet"]._get_report_values(self.plc.ids)[
                "sheets"
            ][0]["date_from"]
        )
        day_report = self.env.ref("scada_plc_bridge.action_report_scada_day_sheet").with_user(self.user)
        pdf, _kind = day_report.with_context(force_report_rendering=True)._render_qweb_pdf(
            self.plc.ids, data={"date_from": today, "date_to": today, "per_shift": True}
        )
        text = self.pdf_text(pdf)
        self.assertIn("Line figures", text)
        self.assertIn("Per shift", text)
        shifts = [line for line in text.splitlines() if re.search(r"Shift \d \(\d\d:00-\d\d:00\)", line)]
        self.assertEqual(len(shifts), 3, "three shifts of the day")
        # The three completed batches are in the shift running now (a shift of
        # yesterday's in the small hours: none of today's then).
        tz, starts = "Asia/Jakarta", self.env["scada.settings"]._shift_starts()
        in_today = plant_shift(fields.Datetime.now(), tz, starts)[0] == fields.Date.to_date(today)
        counts = sorted(int(re.split(r"\)\s+", line)[1].split()[0]) for line in shifts)
        self.assertEqual(counts, [0, 0, 3] if in_today else [0, 0, 0])

    def pdf_text(self, pdf):
        pdftotext = shutil.which("pdftotext")
        self.assertTrue(
            pdftotext, "pdftotext (Debian's poppler-utils) is missing: run scripts/setup.sh as root"
        )
        with tempfile.TemporaryDirectory() as folder:
            path = os.path.join(folder, "day.pdf")
            with open(path, "wb") as handle:
                handle.write(pdf)
            return subprocess.run(
                [pdftotext, "-layout", path, "-"], capture_output=True, text=True, check=True, timeout=60
            ).stdout

    def test_indonesian_supervisor_opens_the_consumption_report(self):
        self.env["base.language.install"].create({"lang": "id_ID", "overwrite": True}).lang_install()
        self.user.lang = "id_ID"
        self.archived(actual_consumption_silo_d=1234.5)
        self.start_tour(
            "/web#action=scada_plc_bridge.scada_consumption_report_action",
            "scada_consumption_indonesian_tour",
            login="shift_supervisor",
        )


@tagged("post_install", "-at_install")
class TestSiloTours(ScadaBrowserCase):
    """Silos as stock in the browser: the silo card after a batch took its
    corn across a lot boundary, and the recall of that lot from Odoo's lot
    form, down to the customer's delivery and the exportable list."""

    def setUp(self):
        super().setUp()
        kg = self.env.ref("uom.product_uom_kgm")
        self.plc = self.env["scada.plc"].create(
            {"name": "Silo line", "code": "SILO01", "port": 9, "silo_stock": True}
        )
        self.env["ir.config_parameter"].sudo().set_param("scada_plc_bridge.default_plc_id", self.plc.id)
        self.plc.action_create_silo_locations()
        silos = {silo.tag: silo for silo in self.plc.silo_ids}
        self.user = new_test_user(
            self.env,
            "silo_supervisor",
            groups="scada_plc_bridge.group_scada_user,stock.group_production_lot",
            password="silo_supervisor",
            name="Silo Supervisor",
        )

        def product(name, tracking="lot"):
            return self.env["product.product"].create(
                {"name": name, "type": "product", "tracking": tracking, "uom_id": kg.id, "uom_po_id": kg.id}
            )

        corn, feed = product("TOUR CORN"), product("TOUR FEED")
        silos["silo_d"].write({"product_id": corn.id, "capacity_kg": 4000.0})
        bom = self.env["mrp.bom"].create(
            {
                "product_tmpl_id": feed.product_tmpl_id.id,
                "product_qty": 1000,
                "product_uom_id": kg.id,
                "bom_line_ids": [
                    (0, 0, {"product_id": corn.id, "product_qty": 600, "scada_silo_id": silos["silo_d"].id})
                ],
            }
        )
        Quant, now = self.env["stock.quant"], fields.Datetime.now()
        self.lots = self.env["stock.production.lot"].create(
            [
                {"name": "TOUR-CORN-%d" % n, "product_id": corn.id, "company_id": self.env.company.id}
                for n in (1, 2)
            ]
        )
        for days, lot, quantity in ((3, self.lots[0], 500.0), (1, self.lots[1], 1500.0)):
            Quant._update_available_quantity(
                corn, silos["silo_d"].location_id, quantity, lot_id=lot, in_date=now - timedelta(days=days)
            )
        production = Form(self.env["mrp.production"])
        production.product_id, production.bom_id, production.product_qty = feed, bom, 1000
        self.production = production.save()
        self.production.action_confirm()
        # Task 3 as the runtime runs it, on the PLC's figures (no PLC I/O in it).
        batch = self.env["scada.task.sync"]._sync_mo(self.plc)
        batch.sudo().write(
            {
                "actual_consumption_silo_d": 601.5,
                "actual_weight_quantity_finished_goods": 1000.0,
                "status_manufacturing": True,
            }
        )
        self.assertTrue(self.env["scada.task.finish"]._finish_batch(batch.id))
        self.assertEqual(self.production.state, "done")
        customer = self.env["res.partner"].create({"name": "TOUR FARM"})
        warehouse = self.env["stock.warehouse"].search([("company_id", "=", self.env.company.id)], limit=1)
        customers = self.env.ref("stock.stock_location_customers")
        delivery = self.env["stock.picking"].create(
            {
                "picking_type_id": warehouse.out_type_id.id,
                "partner_id": customer.id,
                "location_id": warehouse.lot_stock_id.id,
                "location_dest_id": customers.id,
                "move_lines": [
                    (
                        0,
                        0,
                        {
                            "name": "feed",
                            "product_id": feed.id,
                            "product_uom": kg.id,
                            "product_uom_qty": 400,
                            "location_id": warehouse.lot_stock_id.id,
                            "location_dest_id": customers.id,
                        },
                    )
                ],
            }
        )
        delivery.action_confirm()
        move = delivery.move_lines
        move.move_line_ids = [
            (
                0,
                0,
                dict(
                    move._prepare_move_line_vals(), lot_id=self.production.lot_producing_id.id, qty_done=400
                ),
            )
        ]
        delivery._action_done()

    def test_the_silo_card_shows_level_lots_and_last_fill(self):
        self.start_tour(
            "/web#action=scada_plc_bridge.scada_silo_level_action",
            "scada_silo_card_tour",
            login="silo_supervisor",
        )

    def test_a_recall_from_the_lot_form_lists_the_mo_its_lot_and_the_customer(self):
        self.env["base"].flush()
        self.start_tour(
            "/web#model=stock.production.lot&view_type=form&id=%d" % self.lots[0].id,
            "scada_recall_tour",
            login="silo_supervisor",
        )


@tagged("post_install", "-at_install")
class TestAccessOverHttp(HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        serve_http()

    def setUp(self):
        super().setUp()
        fixtures = type("AccessFixtures", (ScadaCase,), {})
        fixtures.env = self.env
        self.plc = self.env["scada.plc"].create({"name": "Access line", "code": "ACC01", "port": 9})
        fixtures.plc, fixtures.silo = self.plc, {silo.tag: silo for silo in self.plc.silo_ids}
        kg = self.env.ref("uom.product_uom_kgm")
        product = self.env["product.product"].create(
            {"name": "ACCESS FEED", "type": "product", "uom_id": kg.id, "uom_po_id": kg.id}
        )
        corn = self.env["product.product"].create(
            {"name": "ACCESS CORN", "type": "product", "uom_id": kg.id, "uom_po_id": kg.id}
        )
        bom = self.env["mrp.bom"].create(
            {
                "product_tmpl_id": product.product_tmpl_id.id,
                "product_qty": 1000,
                "product_uom_id": kg.id,
                "scada_plc_id": self.plc.id,
                "bom_line_ids": [
                    (
                        0,
                        0,
                        {
                            "product_id": corn.id,
                            "product_qty": 1000,
                            "scada_silo_id": fixtures.silo["silo_a"].id,
                        },
                    )
                ],
            }
        )
        self.production = fixtures.confirmed_mo(1000, bom=bom)
        self.env["scada.task.sync"]._sync_mo(self.plc)
        self.batch = self.env["mo.batch"].search([("production_id", "=", self.production.id)])
        new_test_user(self.env, "http_user", groups="scada_plc_bridge.group_scada_user", password="http_user")
        new_test_user(
            self.env, "http_manager", groups="scada_plc_bridge.group_scada_manager", password="http_manager"
        )
        new_test_user(self.env, "http_mrp", groups="mrp.group_mrp_user", password="http_mrp")
        new_test_user(self.env, "http_portal", groups="base.group_portal", password="http_portal")

    def call(self, login, model, method, *args, **kwargs):
        self.authenticate(login, login)
        payload = {
            "jsonrpc": "2.0",
            "method": "call",
            "id": 1,
            "params": {"model": model, "method": method, "args": list(args), "kwargs": kwargs},
        }
        response = self.url_open(
            "/web/dataset/call_kw/%s/%s" % (model, method),
            data=json.dumps(payload),
            headers={"Content-Type": "application/json"},
        )
        self.assertEqual(response.status_code, 200, "a refusal is an answer, not an error page")
        return response.json()

    def assert_refused(self, login, model, method, *args, **kwargs):
        answer = self.call(login, model, method, *args, **kwargs)
        self.assertIn("error", answer, "%s.%s by %s was allowed" % (model, method, login))
        self.assertEqual(answer["error"]["data"]["name"], "odoo.exceptions.AccessError", answer["error"])
        return answer["error"]["data"]["message"]

    def test_a_user_cannot_forge_a_finished_batch(self):
        forged = {
            "actual_consumption_silo_a": 4321.0,
            "actual_weight_quantity_finished_goods": 4321.0,
            "status_manufacturing": True,
        }
        self.assert_refused("http_user", "mo.batch", "write", self.batch.ids, forged)
        self.assert_refused("http_user", "scada.plc", "action_run_task3_process_completed", self.plc.ids)
        self.assertFalse(self.batch.status_manufacturing)
        self.assertEqual(self.production.state, "confirmed")

    def test_a_user_runs_no_task_and_sends_no_command(self):
        for method in (
            "action_run_task1_sync_mo",
            "action_run_task2_plc_read",
            "action_run_task3_process_completed",
            "action_run_task4_health",
            "action_test_connection",
            "action_read_slots",
        ):
            self.assert_refused("http_user", "scada.plc", method, self.plc.ids)
        self.assert_refused("http_user", "mo.batch", "action_accept_review", self.batch.ids)

    def test_plc_address_is_for_managers_only(self):
        for login in ("http_user", "http_mrp"):
            self.assert_refused(login, "scada.plc", "read", self.plc.ids, ["host", "port"])
        self.assert_refused("http_user", "scada.plc", "write", self.plc.ids, {"host": "127.0.0.2"})
        answer = self.call("http_manager", "scada.plc", "read", self.plc.ids, ["host", "port"])
        self.assertEqual(answer["result"][0]["host"], "127.0.0.1")

    def test_plc_address_leaks_by_no_route(self):
        """Searching, counting, grouping, sorting, name_search and export by
        the address tell it as well as reading it."""
        address = [("host", "=", "127.0.0.1")]
        routes = [
            ("scada.plc", "search", (address,), {}),
            ("scada.plc", "search_count", ([("port", "=", 9)],), {}),
            ("scada.plc", "search_read", ([], ["name"]), {"order": "host"}),
            ("scada.plc", "search_read", ([("protocol", "=", "udp")], ["name"]), {}),
            ("scada.plc", "read_group", ([], ["name"], ["host"]), {}),
            ("scada.plc", "read_group", ([], ["port:max"], ["state"]), {}),
            ("scada.plc", "read_group", ([], ["state"], ["state"]), {"orderby": "plc_node"}),
            ("scada.plc", "read_group", (address, ["state"], ["state"]), {}),
            ("scada.plc", "name_search", (), {"name": "", "args": [("client_node", "=", 0)]}),
            ("scada.plc", "export_data", (self.plc.ids, ["name", "host"]), {}),
            ("mo.batch", "search", ([("plc_id.host", "=", "127.0.0.1")],), {}),
            ("mo.batch", "export_data", (self.batch.ids, ["plc_id/port"]), {}),
        ]
        exporters = self.env["res.users"].search([("login", "in", ("http_user", "http_mrp", "http_manager"))])
        self.env.ref("base.group_allow_export").write({"users": [(4, user.id) for user in exporters]})
        for login in ("http_user", "http_mrp"):
            for model, method, args, kwargs in routes:
                with self.subTest(login=login, model=model, method=method, args=args, kwargs=kwargs):
                    message = self.assert_refused(login, model, method, *args, **kwargs)
                    if model == "scada.plc" or login == "http_user":  # MRP users have no batches at all
                        self.assertIn("SCADA managers", message)
            # what stays allowed tells nothing of the address
            groups = self.call(login, "scada.plc", "read_group", [], [], ["state"])["result"]
            self.assertTrue(groups)
            self.assertFalse({"host", "port", "plc_node", "client_node"} & set(groups[0]))
            answer = self.call(login, "scada.plc", "search_read", [("code", "=", "ACC01")], ["name"])
            self.assertEqual([row["id"] for row in answer["result"]], self.plc.ids)
        for model, method, args, kwargs in routes:
            with self.subTest(login="http_manager", model=model, method=method):
                answer = self.call("http_manager", model, method, *args, **kwargs)
                self.assertNotIn("error", answer, answer.get("error"))
        answer = self.call("http_manager", "scada.plc", "search_count", [("port", "=", 9)])
        self.assertGreaterEqual(answer["result"], 1)

    def test_history_is_written_by_nobody(self):
        history = self.env["scada.task.finish"]._archive(self.batch, "cancelled", "for the HTTP access test")
        for login in ("http_user", "http_manager"):
            self.assert_refused(login, "mo.history", "write", history.ids, {"notes": "changed"})
            self.assert_refused(login, "mo.history", "write", history.ids, {"message_ids": [(5, 0, 0)]})
            self.assert_refused(login, "mo.history", "unlink", history.ids)
            self.assert_refused(
                login, "mo.history", "create", {"mo_reference": "FORGED", "status": "completed"}
            )
        self.assertEqual(history.notes, "for the HTTP access test")

    def test_portal_users_read_nothing_of_the_addon(self):
        for model in (
            "mo.batch",
            "mo.history",
            "scada.plc",
            "scada.silo",
            "scada.memory.map",
            "scada.plc.request",
        ):
            self.assert_refused("http_portal", model, "search_read", [], ["id"])

    def test_a_user_uses_the_operations(self):
        answer = self.call("http_user", "mo.batch", "action_send_to_plc", self.batch.ids)
        self.assertNotIn("error", answer, answer.get("error"))
        self.assertEqual(self.env["scada.plc.request"].search([("plc_id", "=", self.plc.id)]).kind, "send")
        answer = self.call("http_user", "scada.plc", "action_read_now", self.plc.ids)
        self.assertNotIn("error", answer, answer.get("error"))
