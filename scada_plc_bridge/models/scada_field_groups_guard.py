"""Fields of a group hidden by every route, not only read and write.

Odoo checks a field's `groups` in read and write, not in domains, groupings,
orderings or exports: those would tell the value too.  The PLC's address is
such a field (FINS has no authentication), for managers only."""

import re

from odoo import _, api, models
from odoo.exceptions import AccessError


class ScadaFieldGroupsGuard(models.AbstractModel):
    _name = "scada.field.groups.guard"
    _description = "SCADA guard of fields restricted to a group"

    @api.model
    def _check_field_groups(self, specs, domain=()):
        """Refuse field specs (names, 'port:sum', 'host desc', paths) and
        domain leaves that name a field of a group the user is not in."""
        if self.env.su:
            return
        names = list(specs) + [
            leaf[0]
            for leaf in domain or ()
            if isinstance(leaf, (list, tuple)) and leaf and isinstance(leaf[0], str)
        ]
        hidden = sorted(
            {
                name
                for name in re.findall(r"[A-Za-z_]\w*", " ".join(str(spec) for spec in names if spec))
                if name in self._fields
                and self._fields[name].groups
                and not self.user_has_groups(self._fields[name].groups)
            }
        )
        if hidden:
            raise AccessError(
                _("Only SCADA managers may search, group, sort or export a PLC by %s.") % ", ".join(hidden)
            )

    @api.model
    def _search(self, args, offset=0, limit=None, order=None, count=False, access_rights_uid=None):
        # search, search_count, search_read, name_search
        self._check_field_groups([order], args)
        return super()._search(
            args, offset=offset, limit=limit, order=order, count=count, access_rights_uid=access_rights_uid
        )

    @api.model
    def _read_group_raw(self, domain, fields, groupby, offset=0, limit=None, orderby=False, lazy=True):
        groupby = [groupby] if isinstance(groupby, str) else list(groupby or ())
        if not fields and not self.env.su:
            # no fields: Odoo aggregates every stored one, the user's only here
            fields = [
                name
                for name, field in self._fields.items()
                if field.store and (not field.groups or self.user_has_groups(field.groups))
            ]
        self._check_field_groups(list(fields or ()) + groupby + [orderby], domain)
        return super()._read_group_raw(
            domain, fields, groupby, offset=offset, limit=limit, orderby=orderby, lazy=lazy
        )

    def _export_rows(self, fields, *, _is_toplevel_call=True):
        # export_data, and exports of another model through a PLC field
        self._check_field_groups([path[0] for path in fields if path])
        return super()._export_rows(fields, _is_toplevel_call=_is_toplevel_call)
