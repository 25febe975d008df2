import logging

from odoo import _, api, fields, models
from odoo.addons.base.models.res_partner import _tz_get
from odoo.exceptions import AccessError, UserError, ValidationError

from ..const import BOARD_CHANNEL, HEARTBEAT_SECONDS, SILOS
from ..plclib import memory_map

_logger = logging.getLogger(__name__)
# The settings of where the slots and the mailboxes lie in DM, checked together on save.
MAP_SETTINGS = ("read_area_base", "write_area_base", "slot_stride", "slot_count")
MAP_SETTINGS += ("failure_mailbox_base", "weighing_mailbox_base")


class ScadaPlc(models.Model):
    _name = "scada.plc"
    _description = "SCADA PLC (production line)"
    _inherit = ["mail.thread", "scada.field.groups.guard"]
    _order = "sequence, code"

    name = fields.Char(required=True, tracking=True)
    code = fields.Char(
        required=True, tracking=True, help="Short code of the line, e.g. PLC01; shown on batches."
    )
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True, tracking=True)
    company_id = fields.Many2one("res.company", required=True, default=lambda self: self.env.company)
    responsible_user_id = fields.Many2one(
        "res.users", string="Responsible", help="Receives the health activities of this line's batches."
    )
    host = fields.Char(
        groups="scada_plc_bridge.group_scada_manager",
        required=True,
        default="127.0.0.1",
        tracking=True,
        help="IP address or host name of the PLC's Ethernet unit.",
    )
    port = fields.Integer(
        groups="scada_plc_bridge.group_scada_manager",
        required=True,
        default=9600,
        tracking=True,
        help="FINS port, 9600 by default.",
    )
    protocol = fields.Selection(
        [("udp", "UDP"), ("tcp", "TCP")],
        groups="scada_plc_bridge.group_scada_manager",
        required=True,
        default="udp",
        tracking=True,
        help="FINS over UDP or FINS/TCP.",
    )
    plc_node = fields.Integer(
        groups="scada_plc_bridge.group_scada_manager",
        string="PLC Node",
        default=0,
        help="FINS node address of the PLC (DA1); 0: local node.",
    )
    client_node = fields.Integer(
        groups="scada_plc_bridge.group_scada_manager",
        default=0,
        help="FINS node address of Odoo (SA1); 0: automatic (TCP assigns one).",
    )
    timeout = fields.Float(default=2.0, help="Seconds to wait for one reply.")
    read_retries = fields.Integer(default=1, help="Extra attempts of a read that got no valid reply.")
    poll_interval = fields.Integer(
        string="Poll Interval (s)", default=5, help="Seconds between two PLC reads."
    )
    batch_limit = fields.Integer(default=10, help="Most batches queued for this PLC at once.")
    batch_capacity_kg = fields.Float(
        string="Batch Capacity (kg)",
        help="The mixer's capacity: the most kg one batch holds. Action > Split into line batches (on an MO "
        "or a BoM) makes MOs of at most this; a BoM's own Line Batch Capacity wins.",
    )
    silo_stock = fields.Boolean(
        string="Silos as Stock",
        tracking=True,
        help="Each silo's dose leaves the silo's own stock location (set on the silo) instead of the MO's "
        "source location; a silo without a location keeps the MO's.",
    )
    scale_location_id = fields.Many2one(
        "stock.location",
        string="Scale Station Location",
        domain="[('usage', '=', 'internal'), ('company_id', 'in', (company_id, False))]",
        help="With silos as stock: where the components weighed by hand at the scale station are taken from "
        "(lots oldest first). Empty: the MO's source location.",
    )
    silos_without_location = fields.Char(
        compute="_compute_silos_without_location",
        help="Silos whose dose still leaves the MO's source location.",
    )
    slot_count = fields.Integer(default=memory_map.SLOT_COUNT, help="Number of READ/WRITE slots.")
    slot_stride = fields.Integer(default=memory_map.SLOT_STRIDE, help="Words between two slots.")
    read_area_base = fields.Integer(
        string="READ Area (DM)",
        default=memory_map.READ_AREA_BASE,
        help="DM address of READ slot 1 (PLC to Odoo).",
    )
    write_area_base = fields.Integer(
        string="WRITE Area (DM)",
        default=memory_map.WRITE_AREA_BASE,
        help="DM address of WRITE slot 1 (Odoo to PLC).",
    )
    state = fields.Selection(
        [("unknown", "Not Contacted"), ("connected", "Connected"), ("error", "Error")],
        string="Connection",
        default="unknown",
        readonly=True,
    )
    last_contact = fields.Datetime(readonly=True, help="Last valid reply from the PLC.")
    last_queued = fields.Datetime(
        string="Last MOs Queued", readonly=True, help="When Task 1 last took confirmed MOs into the queue."
    )
    heartbeat = fields.Selection(
        [
            ("live", "Polled"),
            ("silent", "PLC not answering"),
            ("stopped", "Polling stopped"),
            ("unknown", "Not polled yet"),
        ],
        compute="_compute_heartbeat",
        help="Polled: the last read is recent.  PLC not answering: Odoo cannot reach it.  "
        "Polling stopped: no read for longer than the stale setting (Odoo's PLC reader does not run).",
    )
    last_contact_age = fields.Char(string="Since Last Read", compute="_compute_heartbeat")
    last_error = fields.Text(readonly=True)
    slot_problems = fields.Text(
        readonly=True, help="Slots the last read could not use (invalid data, unknown MO), one per line."
    )
    silo_ids = fields.One2many("scada.silo", "plc_id", string="Silos")
    memory_map_ids = fields.One2many("scada.memory.map", "plc_id", string="Memory map fields")
    batch_ids = fields.One2many("mo.batch", "plc_id", string="Queued batches")
    request_ids = fields.One2many("scada.plc.request", "plc_id", string="Requests")
    batch_count = fields.Integer(compute="_compute_batch_count")
    # Plant events (mailboxes): failures D8000-D8022, weighings D9000-D9013.
    tz = fields.Selection(_tz_get, "Time Zone", default=lambda s: s.env["scada.task.failures"]._default_tz())
    failure_mailbox = fields.Boolean("Read Failures", default=True)
    weighing_mailbox = fields.Boolean("Read Weighings", default=True)
    failure_mailbox_base = fields.Integer("Failure Mailbox (DM)", default=memory_map.FAILURE_MAILBOX_BASE)
    weighing_mailbox_base = fields.Integer("Weighing Mailbox (DM)", default=memory_map.WEIGHING_MAILBOX_BASE)
    equipment_ids = fields.One2many("scada.equipment", "plc_id")
    failure_count = fields.Integer(string="Failures", compute="_compute_failure_stats")
    failure_mtbf = fields.Float(string="MTBF (h)", compute="_compute_failure_stats")
    failure_mttr = fields.Float(string="MTTR (h)", compute="_compute_failure_stats")

    _sql_constraints = [("code_company_uniq", "unique(code, company_id)", "The PLC code must be unique.")]

    @api.depends("silo_stock", "silo_ids.location_id", "silo_ids.active")
    def _compute_silos_without_location(self):
        for plc in self:
            missing = plc.silo_ids.filtered(lambda silo: not silo.location_id) if plc.silo_stock else []
            plc.silos_without_location = ", ".join(missing.mapped("name")) if missing else False

    def action_create_silo_locations(self):
        self.env["scada.silo.stock"]._create_locations(self.silo_ids)
        return True

    @api.constrains("poll_interval", "batch_limit", "slot_count", "timeout", "read_retries", "port")
    def _check_settings(self):
        for plc in self:
            if plc.poll_interval < 1 or plc.timeout <= 0 or plc.read_retries < 0:
                raise ValidationError(_("Poll interval, timeout and retries must be positive."))
            if not 1 <= plc.slot_count <= 10 or not 1 <= plc.batch_limit <= plc.slot_count:
                raise ValidationError(_("A PLC has 1 to 10 slots and queues at most one batch per slot."))
            if not 0 < plc.port < 65536:
                raise ValidationError(_("The port must be between 1 and 65535."))

    @api.constrains(*MAP_SETTINGS)
    def _check_memory_map_settings(self):
        """Settings the poller cannot work with are refused on save, not
        found by the first poll: slots overlapping (stride smaller than the
        slot layout), the READ area sharing words with the WRITE area, an
        area outside DM, the handshake word missing or outside the slot.
        Also called when a PLC's memory map fields change."""
        for plc in self:
            problems = memory_map.map_problems(
                plc._layout("read"),
                plc._layout("write"),
                read_base=plc.read_area_base,
                write_base=plc.write_area_base,
                stride=plc.slot_stride,
                count=plc.slot_count,
            )
            problems = problems or self.env["scada.plant.events"]._mailbox_problems(plc)
            if problems:
                raise ValidationError(
                    _("The memory map settings of %(plc)s cannot work: %(problems)s.")
                    % {"plc": plc.display_name, "problems": "; ".join(problems)}
                )

    @api.depends("state", "last_contact")
    def _compute_heartbeat(self):
        now = fields.Datetime.now()
        stale_seconds = 60 * self.env["scada.settings"]._get("health_stale_minutes")
        for plc in self:
            age = (now - plc.last_contact).total_seconds() if plc.last_contact else None
            if plc.state == "error":
                plc.heartbeat = "silent"
            elif age is None:
                plc.heartbeat = "unknown"
            else:
                plc.heartbeat = "stopped" if age > stale_seconds else "live"
            # An answering PLC's contact is written once a heartbeat, not every poll.
            if age is None:
                plc.last_contact_age = _("never")
            elif plc.state == "connected" and age < HEARTBEAT_SECONDS + plc.poll_interval:
                plc.last_contact_age = _("within the last minute")
            elif age < 120:
                plc.last_contact_age = _("%(seconds)d s ago") % {"seconds": age}
            else:
                plc.last_contact_age = _("%(minutes)d min ago") % {"minutes": age // 60}

    def _compute_failure_stats(self):
        self.env["scada.task.failures"]._compute_failure_stats(self, "plc_id")

    def action_view_failures(self):
        return self.env["scada.task.failures"]._failures_action([("plc_id", "in", self.ids)])

    def _compute_batch_count(self):
        groups = self.env["mo.batch"].read_group([("plc_id", "in", self.ids)], ["plc_id"], ["plc_id"])
        counts = {group["plc_id"][0]: group["plc_id_count"] for group in groups}
        for plc in self:
            plc.batch_count = counts.get(plc.id, 0)

    @api.model_create_multi
    def create(self, vals_list):
        plcs = super().create(vals_list)
        if self.env.context.get("scada_default_silos", True):
            for plc in plcs.filtered(lambda p: not p.silo_ids):
                self.env["scada.silo"].create(
                    [
                        {
                            "plc_id": plc.id,
                            "name": label.upper(),
                            "tag": tag,
                            "plc_silo_id": silo_id,
                            "code": ("silo%d" if tag.startswith("silo_") else "lq%d") % silo_id,
                        }
                        for tag, silo_id, label in SILOS
                    ]
                )
        plcs._load_default_memory_map()
        self.env["scada.task.failures"]._create_plant_equipment(plcs)
        return plcs

    def _load_default_memory_map(self):
        """Give PLCs without a memory map the plant's (plclib's default)."""
        for plc in self.filtered(lambda p: not p.memory_map_ids):
            rows = [("read", spec) for spec in memory_map.default_read_fields()]
            rows += [("write", spec) for spec in memory_map.default_write_fields()]
            self.env["scada.memory.map"].create(
                [
                    dict(self.env["scada.memory.map"]._values_from_spec(spec), plc_id=plc.id, area=area)
                    for area, spec in rows
                ]
            )

    # -- plclib adapter ---------------------------------------------------
    def _layout(self, area):
        self.ensure_one()
        rows = self.memory_map_ids.filtered(lambda row: row.area == area)
        if not rows:
            fields_ = (
                memory_map.default_read_fields() if area == "read" else memory_map.default_write_fields()
            )
            return memory_map.SlotLayout(fields_)
        try:
            return memory_map.SlotLayout([row._to_field_spec() for row in rows])
        except ValueError as error:
            raise UserError(
                _("The %(area)s memory map of %(plc)s is inconsistent: %(error)s")
                % {"area": area, "plc": self.display_name, "error": error}
            )

    # -- buttons -------------------------------------------------------------
    def _notify(self, message, kind="info", sticky=False, close=False):
        """A toast; `close`: and the dialog the button was pressed in closes."""
        params = {
            "title": self.display_name or _("SCADA"),
            "message": message,
            "type": kind,
            "sticky": sticky,
        }
        if close:
            params["next"] = {"type": "ir.actions.act_window_close"}
        return {"type": "ir.actions.client", "tag": "display_notification", "params": params}

    def action_test_connection(self):
        self.ensure_one()
        self._check_manager()
        self.env["scada.plc.request"]._request(self, "test")
        return self._notify(_("The connection is tested within a few seconds; the result shows on the PLC."))

    def action_read_now(self):
        for plc in self:
            self.env["scada.plc.request"]._request(plc, "read")
        return self._notify(_("The PLC is read within a few seconds; the batches update then."))

    def action_view_batches(self):
        action = self.env["ir.actions.actions"]._for_xml_id("scada_plc_bridge.mo_batch_action")
        action["domain"] = [("plc_id", "in", self.ids)]
        return action

    def _notify_board(self, batch_ids=(), **extra):
        """Tell open boards (over the bus, at commit) that this PLC's batches
        changed or that it was just polled (its heartbeat)."""
        self.ensure_one()
        message = dict(extra, type="scada_board", plc_id=self.id, batch_ids=list(batch_ids))
        self.env["bus.bus"].sendone(BOARD_CHANNEL, message)

    def _check_manager(self):
        """Task triggers and PLC commands, checked on the server whatever
        the view shows."""
        if not self.env.su and not self.env.user.has_group("scada_plc_bridge.group_scada_manager"):
            raise AccessError(_("Only SCADA managers may run the tasks or send commands to a PLC."))

    def action_run_task1_sync_mo(self):
        self._check_manager()
        created = self.env["scada.task.sync"]._sync_mo(self)
        self.env["scada.plc.request"]._request_per_plc("send", created)
        return self._notify(
            _("Task 1: %(count)s MO(s) queued; their recipes go to the PLC within a few seconds.")
            % {"count": len(created)}
        )

    def action_run_task2_plc_read(self):
        self._check_manager()
        return self.action_read_now()

    def action_run_task3_process_completed(self):
        self._check_manager()
        finish = self.env["scada.task.finish"]
        done, tried = finish._finish_now(finish._finished_batch_ids(self.ids))
        return self._notify(
            _("Task 3: %(done)s batch(es) finished, %(failed)s refused.")
            % {"done": done, "failed": tried - done}
        )

    def action_run_task4_health(self):
        self._check_manager()
        problems = self.env["scada.task.health"]._check_health(self)
        return self._notify(_("Task 4: %s open problem(s).") % problems)

    def action_read_slots(self):
        """Hand a reading of the READ and WRITE slots to the PLC's poller and
        show it when it arrives (no batch is changed)."""
        self.ensure_one()
        self._check_manager()
        return self.env["scada.plc.slots"]._action_show(self.env["scada.plc.request"]._request(self, "slots"))
