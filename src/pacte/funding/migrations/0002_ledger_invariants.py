"""The ledger's invariants, enforced by the database itself (not only by Python).

* A transaction is written unposted, its entries inserted, then it is posted: posting is refused
  unless the transaction has at least two entries summing to zero (to the cent).
* A posted transaction and its entries can no longer be changed (no UPDATE, no new entry).
* On PostgreSQL, in addition, a deferred constraint trigger checks at COMMIT that every
  transaction touched sums to zero, posted or not, whatever the code path. SQLite has no deferred
  triggers: there the posting trigger is the check (and the totals count posted transactions only).

Row deletion is not blocked (the test runner's flush deletes rows); the journal event written with
each transaction keeps the public record.
"""

from typing import Any

from django.db import migrations

TX = "funding_ledgertransaction"
ENTRY = "funding_ledgerentry"

SQLITE = [
    f"""CREATE TRIGGER funding_ledger_post_balanced BEFORE UPDATE OF posted ON {TX}
    WHEN NEW.posted AND NOT OLD.posted AND (
        (SELECT COUNT(*) FROM {ENTRY} WHERE transaction_id = NEW.id) < 2
        OR (SELECT COALESCE(SUM(CAST(ROUND(amount_eur * 100) AS INTEGER)), 0)
            FROM {ENTRY} WHERE transaction_id = NEW.id) <> 0)
    BEGIN SELECT RAISE(ABORT, 'ledger transaction unbalanced: entries must sum to zero'); END""",
    f"""CREATE TRIGGER funding_ledger_posted_frozen BEFORE UPDATE ON {TX} WHEN OLD.posted
    BEGIN SELECT RAISE(ABORT, 'a posted ledger transaction cannot be changed'); END""",
    f"""CREATE TRIGGER funding_ledger_born_unposted BEFORE INSERT ON {TX} WHEN NEW.posted
    BEGIN SELECT RAISE(ABORT, 'a ledger transaction is posted after its entries are written'); END""",
    f"""CREATE TRIGGER funding_ledger_entry_append BEFORE INSERT ON {ENTRY}
    WHEN (SELECT posted FROM {TX} WHERE id = NEW.transaction_id)
    BEGIN SELECT RAISE(ABORT, 'a posted ledger transaction cannot get new entries'); END""",
    f"""CREATE TRIGGER funding_ledger_entry_frozen BEFORE UPDATE ON {ENTRY}
    BEGIN SELECT RAISE(ABORT, 'ledger entries cannot be changed'); END""",
]
SQLITE_DROP = [
    f"DROP TRIGGER IF EXISTS {name}"
    for name in (
        "funding_ledger_post_balanced",
        "funding_ledger_posted_frozen",
        "funding_ledger_born_unposted",
        "funding_ledger_entry_append",
        "funding_ledger_entry_frozen",
    )
]

POSTGRES = [
    f"""CREATE FUNCTION funding_ledger_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE tx bigint; total numeric; n integer;
    BEGIN
        IF TG_OP = 'DELETE' THEN tx := OLD.transaction_id; ELSE tx := NEW.transaction_id; END IF;
        SELECT COALESCE(SUM(amount_eur), 0), COUNT(*) INTO total, n FROM {ENTRY} WHERE transaction_id = tx;
        IF total <> 0 OR n = 1 THEN
            RAISE EXCEPTION 'ledger transaction % unbalanced: entries sum to % (% entries)', tx, total, n
                USING ERRCODE = 'check_violation';
        END IF;
        RETURN NULL;
    END $$""",
    f"""CREATE CONSTRAINT TRIGGER funding_ledger_balanced AFTER INSERT OR UPDATE OR DELETE ON {ENTRY}
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION funding_ledger_balanced()""",
    f"""CREATE FUNCTION funding_ledger_tx_guard() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE total numeric; n integer;
    BEGIN
        IF TG_OP = 'INSERT' THEN
            IF NEW.posted THEN
                RAISE EXCEPTION 'a ledger transaction is posted after its entries are written'
                    USING ERRCODE = 'check_violation';
            END IF;
            RETURN NEW;
        END IF;
        IF OLD.posted THEN
            RAISE EXCEPTION 'a posted ledger transaction cannot be changed' USING ERRCODE = 'check_violation';
        END IF;
        IF NEW.posted THEN
            SELECT COALESCE(SUM(amount_eur), 0), COUNT(*) INTO total, n FROM {ENTRY} WHERE transaction_id = NEW.id;
            IF total <> 0 OR n < 2 THEN
                RAISE EXCEPTION 'ledger transaction % unbalanced: entries sum to % (% entries)', NEW.id, total, n
                    USING ERRCODE = 'check_violation';
            END IF;
        END IF;
        RETURN NEW;
    END $$""",
    f"""CREATE TRIGGER funding_ledger_tx_guard BEFORE INSERT OR UPDATE ON {TX}
    FOR EACH ROW EXECUTE FUNCTION funding_ledger_tx_guard()""",
    f"""CREATE FUNCTION funding_ledger_entry_guard() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'UPDATE' THEN
            RAISE EXCEPTION 'ledger entries cannot be changed' USING ERRCODE = 'check_violation';
        END IF;
        IF (SELECT posted FROM {TX} WHERE id = NEW.transaction_id) THEN
            RAISE EXCEPTION 'a posted ledger transaction cannot get new entries' USING ERRCODE = 'check_violation';
        END IF;
        RETURN NEW;
    END $$""",
    f"""CREATE TRIGGER funding_ledger_entry_guard BEFORE INSERT OR UPDATE ON {ENTRY}
    FOR EACH ROW EXECUTE FUNCTION funding_ledger_entry_guard()""",
]
POSTGRES_DROP = [
    f"DROP TRIGGER IF EXISTS funding_ledger_entry_guard ON {ENTRY}",
    "DROP FUNCTION IF EXISTS funding_ledger_entry_guard()",
    f"DROP TRIGGER IF EXISTS funding_ledger_tx_guard ON {TX}",
    "DROP FUNCTION IF EXISTS funding_ledger_tx_guard()",
    f"DROP TRIGGER IF EXISTS funding_ledger_balanced ON {ENTRY}",
    "DROP FUNCTION IF EXISTS funding_ledger_balanced()",
]


def _run(statements_by_vendor: dict[str, list[str]]) -> Any:
    def run(apps: Any, schema_editor: Any) -> None:
        for sql in statements_by_vendor.get(schema_editor.connection.vendor, []):
            schema_editor.execute(sql, params=None)  # no placeholders: "%" belongs to plpgsql

    return run


class Migration(migrations.Migration):
    dependencies = [("funding", "0001_initial")]

    operations = [
        migrations.RunPython(
            _run({"sqlite": SQLITE, "postgresql": POSTGRES}),
            _run({"sqlite": SQLITE_DROP, "postgresql": POSTGRES_DROP}),
        ),
    ]
