from odoo import _, api, fields, models
from odoo.exceptions import ValidationError

from ..const import SETTING_DEFAULTS, TEXT_SETTING_DEFAULTS
from ..rules import shift_starts

CRONS = {
    "scada_task1_interval": "scada_plc_bridge.ir_cron_task1_sync_mo",
    "scada_task2_interval": "scada_plc_bridge.ir_cron_task2_plc_read",
    "scada_task3_interval": "scada_plc_bridge.ir_cron_task3_process_completed",
    "scada_task4_interval": "scada_plc_bridge.ir_cron_task4_health",
}
MINUTES_PER_UNIT = {"minutes": 1, "hours": 60, "days": 1440, "weeks": 10080, "months": 43200}


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    scada_default_plc_id = fields.Many2one(
        "scada.plc",
        string="Default PLC",
        config_parameter="scada_plc_bridge.default_plc_id",
        help="Line for manufacturing orders whose BoM and work centres name none.",
    )
    scada_batch_limit = fields.Integer(
        string="Batch Limit", help="Most batches queued at once on the default PLC."
    )
    scada_health_stale_minutes = fields.Integer(
        string="Stale After (min)", config_parameter="scada_plc_bridge.health_stale_minutes", default=10
    )
    scada_health_tolerance_percent = fields.Integer(
        string="Consumption Tolerance (%)",
        config_parameter="scada_plc_bridge.health_tolerance_percent",
        default=10,
    )
    scada_health_push_failed_minutes = fields.Integer(
        string="Push Failing Alert After (min)",
        config_parameter="scada_plc_bridge.health_push_failed_minutes",
        default=30,
    )
    # The accuracy grades' limits (rules.GRADE): a silo, or the batch's total, deviating
    # from plan by more than these (%) is graded warning, critical.
    locals().update(
        {
            "scada_accuracy_%s_percent" % grade: fields.Float(
                string="Accuracy %s Above (%%)" % grade.capitalize(),
                config_parameter="scada_plc_bridge.accuracy_%s_percent" % grade,
                default=SETTING_DEFAULTS["accuracy_%s_percent" % grade],
                help="A silo (or the batch's total) deviating from plan by more than this is graded %s."
                % grade,
            )
            for grade in ("warning", "critical")
        }
    )
    scada_plausibility_deviation_percent = fields.Float(
        string="Plausible Deviation per Silo (%)",
        config_parameter="scada_plc_bridge.plausibility_deviation_percent",
        default=10,
        help="A silo is implausible beyond both this percentage and the kg limit.",
    )
    scada_plausibility_deviation_kg = fields.Float(
        string="Plausible Deviation per Silo (kg)",
        config_parameter="scada_plc_bridge.plausibility_deviation_kg",
        default=5,
    )
    scada_plausibility_weight_percent = fields.Float(
        string="Plausible Finished Weight (%)",
        config_parameter="scada_plc_bridge.plausibility_weight_percent",
        default=10,
        help="Finished weight against consumption and against plan.",
    )
    scada_plausibility_unplanned_kg = fields.Float(
        string="Tolerated on Unused Silos (kg)",
        config_parameter="scada_plc_bridge.plausibility_unplanned_kg",
        default=0,
        help="A batch is held for review when a silo its recipe does not use reports more than this.",
    )
    scada_weighing_max_kg = fields.Float(
        string="Largest Manual Weighing (kg)",
        config_parameter="scada_plc_bridge.weighing_max_kg",
        default=50,
        help="A weighing from the scale station above this is held for a manager's review.",
    )
    scada_max_push_retries = fields.Integer(
        string="Automatic Push Attempts", config_parameter="scada_plc_bridge.max_push_retries", default=5
    )
    scada_failure_recovery_patterns = fields.Char(
        string="Recovery Words",
        config_parameter="scada_plc_bridge.failure_recovery_patterns",
        default="*_OK,RECOVERED",
    )
    scada_shift_starts = fields.Char(
        string="Shifts Start At",
        config_parameter="scada_plc_bridge.shift_starts",
        default=TEXT_SETTING_DEFAULTS["shift_starts"],
        help="Local times (HH:MM, comma-separated) at which the plant's shifts start; a shift ends where the "
        "next one starts. The dashboard and the day report count per shift.",
    )
    scada_finished_lot_name = fields.Char(
        string="Finished Lot per Batch",
        config_parameter="scada_plc_bridge.finished_lot_name",
        default=TEXT_SETTING_DEFAULTS["finished_lot_name"],
        help="The name of the lot each batch of a lot-tracked finished product gets, unless the planner set "
        "the MO's lot: {mo} the MO, {batch} the batch number, {plc} the line's code.",
    )
    scada_retention_days = fields.Integer(
        string="Keep Requests and Alarms (days)",
        config_parameter="scada_plc_bridge.retention_days",
        default=90,
    )
    scada_scheduler_enabled = fields.Boolean(
        string="SCADA Scheduler", help="Run the four SCADA tasks automatically."
    )
    scada_task1_interval = fields.Integer(string="Task 1: Sync MOs (min)")
    scada_task2_interval = fields.Integer(string="Task 2: PLC Read (min)")
    scada_task3_interval = fields.Integer(string="Task 3: Finish Batches (min)")
    scada_task4_interval = fields.Integer(string="Task 4: Health (min)")

    @api.model
    def _scada_crons(self):
        return {name: self.env.ref(xml_id).sudo() for name, xml_id in CRONS.items()}

    @api.model
    def get_values(self):
        values = super().get_values()
        crons = self._scada_crons()
        for name, cron in crons.items():
            values[name] = cron.interval_number * MINUTES_PER_UNIT[cron.interval_type]
        values["scada_scheduler_enabled"] = all(cron.active for cron in crons.values())
        plc = self.env["scada.settings"]._default_plc()
        values["scada_batch_limit"] = plc.batch_limit if plc else 10
        return values

    @api.constrains("scada_shift_starts")
    def _check_shift_starts(self):
        for settings in self.filtered("scada_shift_starts"):
            try:
                shift_starts(settings.scada_shift_starts)
            except ValueError as error:
                raise ValidationError(_("Shifts Start At: %s.") % error) from error

    @api.constrains("scada_finished_lot_name")
    def _check_finished_lot_name(self):
        for settings in self.filtered("scada_finished_lot_name"):
            self.env["scada.lot.tracking"]._check_finished_lot_rule(settings.scada_finished_lot_name)

    def set_values(self):
        result = super().set_values()
        for name, cron in self._scada_crons().items():
            cron.write(
                {
                    "interval_number": max(1, self[name]),
                    "interval_type": "minutes",
                    "active": self.scada_scheduler_enabled,
                }
            )
        plc = self.scada_default_plc_id or self.env["scada.settings"]._default_plc()
        if plc and self.scada_batch_limit:
            plc.batch_limit = self.scada_batch_limit
        return result
