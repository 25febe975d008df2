import io
import os

import polib
from odoo.tests import SavepointCase, tagged
from odoo.tools import trans_export

I18N_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "i18n")


@tagged("post_install", "-at_install")
class TestIndonesian(SavepointCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["base.language.install"].create({"lang": "id_ID", "overwrite": True}).lang_install()
        cls.env_id = cls.env(context=dict(cls.env.context, lang="id_ID"))

    def test_field_labels_and_states_are_indonesian(self):
        fields = self.env_id["mo.batch"].fields_get(["last_read_from_plc", "state"])
        self.assertEqual(fields["last_read_from_plc"]["string"], "Pembacaan PLC Terakhir")
        self.assertIn(("push_failed", "Gagal Dikirim"), fields["state"]["selection"])

    def test_views_and_menus_are_indonesian(self):
        arch = self.env_id["mo.batch"].fields_view_get(view_type="form")["arch"]
        self.assertIn("Kirim ulang", arch)
        menu = self.env_id.ref("scada_plc_bridge.mo_batch_failed_to_push_menu")
        self.assertEqual(menu.name, "Gagal dikirim")

    def test_messages_from_code_are_indonesian(self):
        plc = self.env_id.ref("scada_plc_bridge.scada_plc_default")
        notification = plc.action_run_task4_health()
        self.assertEqual(notification["params"]["message"], "Tugas 4: 0 masalah terbuka.")

    def test_every_string_of_the_addon_is_translated(self):
        buffer = io.BytesIO()
        trans_export(False, ["scada_plc_bridge"], buffer, "po", self.env.cr)
        exported = {entry.msgid for entry in polib.pofile(buffer.getvalue().decode()) if entry.msgid}
        translations = polib.pofile(os.path.join(I18N_DIR, "id.po"))
        translated = {entry.msgid for entry in translations if entry.msgstr}
        self.assertEqual(exported - translated, set(), "strings missing from i18n/id.po")
        self.assertFalse([entry.msgid for entry in translations if not entry.msgstr])
        template = {entry.msgid for entry in polib.pofile(os.path.join(I18N_DIR, "scada_plc_bridge.pot"))}
        self.assertEqual(exported - template, set(), "i18n/scada_plc_bridge.pot is out of date")
