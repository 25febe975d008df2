"""The SCADA settings (Settings > SCADA, stored as ir.config_parameter): the
one reader every part uses, with the defaults of const.SETTING_DEFAULTS."""

from odoo import api, models

from ..const import PARAM_PREFIX, SETTING_DEFAULTS, TEXT_SETTING_DEFAULTS
from ..rules import shift_starts


class ScadaSettings(models.AbstractModel):
    _name = "scada.settings"
    _description = "SCADA settings"

    @api.model
    def _get(self, key):
        """A numeric SCADA setting, or its default when unset or unreadable."""
        value = self.env["ir.config_parameter"].sudo().get_param(PARAM_PREFIX + key)
        try:
            return float(value) if value else SETTING_DEFAULTS[key]
        except ValueError:
            return SETTING_DEFAULTS[key]

    @api.model
    def _get_text(self, key):
        """A text SCADA setting, or its default when unset or blank."""
        value = self.env["ir.config_parameter"].sudo().get_param(PARAM_PREFIX + key)
        return value.strip() if value and value.strip() else TEXT_SETTING_DEFAULTS[key]

    @api.model
    def _shift_starts(self):
        """The shifts' start times (rules.shift_starts); the default when the
        stored value cannot be read (the settings form refuses such a value)."""
        try:
            return shift_starts(self._get_text("shift_starts"))
        except ValueError:
            return shift_starts(TEXT_SETTING_DEFAULTS["shift_starts"])

    @api.model
    def _default_plc(self):
        """The PLC that takes MOs not routed to a line (setting), else the first."""
        param = self.env["ir.config_parameter"].sudo().get_param(PARAM_PREFIX + "default_plc_id")
        plc = self.env["scada.plc"].browse(int(param)).exists() if param and param.isdigit() else None
        return plc or self.env["scada.plc"].search([], limit=1)
