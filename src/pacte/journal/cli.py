"""`pacte log …`: verify, export, monitor, integrate, audit, witness."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add this domain's subcommands to the `pacte` parser."""
    p = sub.add_parser("log", help="journal vérifiable (Merkle, RFC 9162 / C2SP)")
    lsub = p.add_subparsers(dest="log_command", required=True)

    v = lsub.add_parser("verify", help="vérifier tout le journal hors ligne (export ou API)")
    src = v.add_mutually_exclusive_group(required=True)
    src.add_argument("--url", help="adresse de la plateforme (ex. https://pacte.example.org)")
    src.add_argument("--dir", help="dossier produit par `pacte log export`")
    v.add_argument("--key", required=True, help="clé de vérification du journal (texte ou fichier)")
    v.add_argument("--checkpoint", help="point de contrôle signé enregistré auparavant (fichier)")
    v.add_argument("--quiet", action="store_true", help="sans barre de progression")
    v.add_argument(
        "--index",
        type=int,
        action="append",
        default=[],
        help="(avec --url) prouver l'inclusion de cette entrée, preuve calculée à partir des tuiles",
    )
    v.add_argument(
        "--proofs-only",
        action="store_true",
        help="(avec --url) ne pas relire toutes les entrées : signature, cohérence avec "
        "--checkpoint et inclusions --index, calculées à partir des tuiles",
    )
    v.set_defaults(func=cmd_verify)

    t = lsub.add_parser(
        "tiles",
        help="écrire les tuiles C2SP (tlog-tiles) dans un dossier servi sans Python",
    )
    t.add_argument("dir", help="dossier (servi à l'adresse <base>/api/v1/log/)")
    t.set_defaults(func=cmd_tiles)

    e = lsub.add_parser("export", help="exporter entrées (JSONL), point de contrôle et clé")
    e.add_argument("dir")
    e.set_defaults(func=cmd_export)

    m = lsub.add_parser(
        "monitor", help="suivre un journal et alerter en cas de fourche ou de lien manquant"
    )
    m.add_argument("--url", required=True)
    m.add_argument("--state", required=True, help="dossier d'état du moniteur")
    m.add_argument("--key", help="clé de vérification (sinon : épinglée au premier passage)")
    m.add_argument(
        "--once",
        action="store_true",
        help="un seul passage ; code de sortie non nul en cas d'alerte",
    )
    m.add_argument("--interval", type=float, default=60.0, help="secondes entre deux passages")
    m.add_argument(
        "--full",
        action="store_true",
        help="revérifier TOUTES les entrées depuis la première (pas seulement les nouvelles)",
    )
    m.set_defaults(func=cmd_monitor)

    i = lsub.add_parser(
        "integrate", help="intégrer les entrées en attente et signer un point de contrôle"
    )
    i.set_defaults(func=cmd_integrate)

    a = lsub.add_parser(
        "audit",
        help="recalculer l'arbre depuis la base et le comparer aux nœuds et points de contrôle",
    )
    a.set_defaults(func=cmd_audit)

    r = lsub.add_parser(
        "recover",
        help="base en retard ou en fourche sur le journal signé : diagnostiquer et "
        "rétablir (voir docs/transparency-log-operations.md)",
    )
    how = r.add_mutually_exclusive_group()
    how.add_argument(
        "--from-export",
        metavar="DIR",
        help="ré-ajouter les entrées manquantes depuis un export (`pacte log export`)",
    )
    how.add_argument(
        "--from-url",
        metavar="URL",
        help="ré-ajouter les entrées manquantes depuis un serveur qui les sert encore (réplique, miroir)",
    )
    how.add_argument(
        "--accept-new-origin",
        metavar="ORIGINE",
        help="commencer un NOUVEAU journal sous l'origine configurée (à répéter pour confirmer)",
    )
    how.add_argument(
        "--witness",
        metavar="PREFIXE",
        help="reprendre la mémoire du dernier point de contrôle cosigné par un témoin "
        "(préfixe de surveillance, ex. https://temoin.example/api/v1/witness)",
    )
    r.set_defaults(func=cmd_recover)

    w = lsub.add_parser(
        "witness",
        help="témoins : enregistrer une clé, ou être témoin d'un journal (C2SP tlog-witness)",
    )
    wsub = w.add_subparsers(dest="witness_command", required=True)
    wa = wsub.add_parser(
        "add", help="enregistrer un témoin (clé cosignature/v1) auprès de ce journal"
    )
    wa.add_argument("key", help="clé de vérification cosignature/v1 du témoin (texte ou fichier)")
    wa.set_defaults(func=cmd_witness)
    wk = wsub.add_parser(
        "keygen", help="créer une clé de témoin (fichier privé) et afficher sa clé de vérification"
    )
    wk.add_argument("name", help="nom du témoin (ex. temoin.example.org)")
    wk.add_argument("--out", required=True, help="fichier de clé privée à créer (mode 0600)")
    wk.set_defaults(func=cmd_witness_keygen)
    wc = wsub.add_parser(
        "cosign",
        help="vérifier le nouveau point de contrôle d'une plateforme et lui renvoyer "
        "une cosignature (add-checkpoint C2SP exécuté localement)",
    )
    wc.add_argument(
        "--url", required=True, help="adresse de la plateforme (ex. https://pacte.example.org)"
    )
    wc.add_argument("--key", required=True, help="fichier de clé privée du témoin (PRIVATE+KEY+…)")
    wc.add_argument(
        "--state",
        required=True,
        help="dossier d'état du témoin (dernier point de contrôle cosigné)",
    )
    wc.add_argument(
        "--log-key", help="clé de vérification du journal (sinon : épinglée au premier passage)"
    )
    wc.set_defaults(func=cmd_witness_cosign)
    wp = wsub.add_parser(
        "push",
        help="demander à un témoin de cosigner le dernier point de contrôle de CE journal "
        "(POST <préfixe>/add-checkpoint, C2SP tlog-witness)",
    )
    wp.add_argument(
        "--to",
        required=True,
        action="append",
        metavar="PREFIXE",
        help="préfixe de soumission du témoin (ex. https://temoin.example/api/v1/witness) ; répétable",
    )
    wp.set_defaults(func=cmd_witness_push)


def _read_key(value: str) -> str:
    path = Path(value)
    if "+" not in value or (len(value) < 4096 and path.is_file()):
        try:
            return path.read_text(encoding="utf-8").strip()
        except OSError:
            pass
    return value.strip()


def _err(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def cmd_verify(args: argparse.Namespace, client: Any = None) -> int:
    from pacte.engines import offline_verifier as offline

    indexes: list[int] = list(getattr(args, "index", None) or [])
    proofs_only = bool(getattr(args, "proofs_only", False))
    if (indexes or proofs_only) and not args.url:
        _err("Erreur : --index et --proofs-only demandent --url (preuves calculées des tuiles).")
        return 2
    try:
        source: offline.Source = (
            offline.HttpSource(args.url, client) if args.url else offline.DirSource(args.dir)
        )
        old = Path(args.checkpoint).read_text(encoding="utf-8") if args.checkpoint else None
    except (offline.SourceError, OSError) as exc:
        _err(f"Erreur : {exc}")
        return 2
    vkey = _read_key(args.key)
    try:
        if proofs_only:
            res = offline.verify_checkpoint(source, vkey, old_checkpoint=old)
        else:
            res = _verify_with_progress(
                source, vkey, old, quiet=bool(getattr(args, "quiet", False))
            )
        proved = []
        for index in indexes:
            assert isinstance(source, offline.HttpSource)
            proved.append((index, offline.check_inclusion(source, index, res.size, res.root)))
    except offline.VerificationFailed as exc:
        _err(f"ÉCHEC de la vérification : {exc}")
        return 1
    except offline.SourceError as exc:
        _err(f"Erreur de lecture : {exc}")
        return 2
    if proofs_only:
        print(
            f"Point de contrôle {res.origin} vérifié : {res.size} entrées, racine {res.root.hex()}."
        )
    else:
        print(
            f"Journal {res.origin} vérifié : {res.size} entrées, racine {res.root.hex()}, "
            "signature valide, chaînes prev complètes."
        )
    if res.old_size is not None:
        print(f"Cohérent avec le point de contrôle précédent (taille {res.old_size}).")
    for index, proof in proved:
        print(
            f"Entrée {index} incluse dans l'arbre de taille {res.size} "
            f"(preuve de {len(proof)} nœuds calculée à partir des tuiles)."
        )
    return 0


def _verify_with_progress(source: Any, vkey: str, old: str | None, *, quiet: bool) -> Any:
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    from pacte.engines import offline_verifier as offline

    progress = Progress(
        TextColumn("Vérification des entrées"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        disable=quiet,
        transient=True,
        console=None,
    )
    task = None

    def start(total: int) -> None:
        nonlocal task
        task = progress.add_task("verify", total=total)

    def advance(n: int) -> None:
        if task is not None:
            progress.advance(task, n)

    with progress:
        return offline.verify_source(
            source, vkey, old_checkpoint=old, on_start=start, on_progress=advance
        )


def cmd_tiles(args: argparse.Namespace) -> int:
    from pacte.journal.static_tiles import write_tiles

    written = write_tiles(Path(args.dir))
    print(
        f"Tuiles du point de contrôle de taille {written.size} écrites dans {args.dir} : "
        f"{written.written} nouvelles, {written.kept} déjà présentes (immuables), "
        f"{written.removed} tuiles partielles périmées retirées."
    )
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from pacte.startup import setup

    setup()
    from pacte.journal.exports import export_log

    size = export_log(Path(args.dir))
    print(f"Journal exporté dans {args.dir} : {size} entrées, point de contrôle et clé.")
    return 0


def cmd_monitor(args: argparse.Namespace, client: Any = None) -> int:
    import time

    from pacte.engines import offline_verifier as offline

    source = offline.HttpSource(args.url, client)
    key = _read_key(args.key) if args.key else None
    full = bool(getattr(args, "full", False))
    while True:
        try:
            res = offline.monitor_once(source, args.state, key, full=full)
        except (offline.SourceError, offline.VerificationFailed) as exc:
            _err(f"Erreur : {exc}")
            if args.once:
                return 2
        else:
            for alert in res.alerts:
                _err(f"ALERTE : {alert}")
            if res.alerts and args.once:
                return 1
            if not res.alerts:
                what = (
                    "entrée(s) revérifiée(s) depuis la première"
                    if full
                    else "nouvelle(s) entrée(s) vérifiée(s)"
                )
                print(f"Taille {res.size} : {res.new_entries} {what}, aucune fourche.", flush=True)
        if args.once:
            return 0
        time.sleep(args.interval)


def cmd_integrate(args: argparse.Namespace) -> int:
    from pacte.startup import setup

    setup()
    from pacte.journal.services import integrate

    cp = integrate()
    print(f"Point de contrôle signé : taille {cp.size}, racine {bytes(cp.root).hex()}.")
    return 0


def cmd_audit(args: argparse.Namespace) -> int:
    from pacte.startup import setup

    setup()
    from pacte.journal.services import verify_log

    report = verify_log()
    if not report.ok:
        for p in report.problems:
            _err(f"ÉCHEC : {p}")
        return 1
    print(f"Base cohérente : {report.size} entrées, racine {report.root}.")
    return 0


def cmd_witness(args: argparse.Namespace) -> int:
    from pacte.startup import setup

    setup()
    from pacte.errors import DomainError
    from pacte.journal.services import register_witness

    try:
        w = register_witness(_read_key(args.key))
    except DomainError as exc:
        _err(f"Erreur : {exc.message}")
        return 2
    print(f"Témoin « {w.name} » enregistré.")
    return 0


def cmd_witness_keygen(args: argparse.Namespace) -> int:
    import os

    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from pacte.engines import note

    try:
        signer = note.CosignatureSigner(args.name, Ed25519PrivateKey.generate())
    except note.NoteError as exc:
        _err(f"Erreur : {exc}")
        return 2
    try:
        fd = os.open(args.out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except OSError as exc:
        _err(f"Erreur : {args.out} : {exc.strerror}")
        return 2
    with os.fdopen(fd, "w", encoding="ascii") as fh:
        fh.write(signer.private_key_text + "\n")
    print(signer.verifier_key)
    return 0


def _write_atomic(path: Path, text: str) -> None:
    import os

    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("w", encoding="utf-8") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def cmd_witness_cosign(args: argparse.Namespace, client: Any = None) -> int:
    """Be a witness of a Pacte log: fetch its checkpoint and the consistency proof from the
    size last cosigned, run the C2SP add-checkpoint handling locally (state persisted before
    the cosignature leaves), then POST the cosignature to the platform."""
    import fcntl
    import time

    from pacte.engines import note, witness
    from pacte.engines import offline_verifier as offline

    try:
        signer = note.CosignatureSigner.from_private_key_text(
            Path(args.key).read_text(encoding="utf-8")
        )
    except (OSError, note.NoteError) as exc:
        _err(f"Erreur : clé de témoin illisible ({exc})")
        return 2
    state_dir = Path(args.state)
    state_dir.mkdir(parents=True, exist_ok=True)
    state_path = state_dir / "state.json"
    with (state_dir / "lock").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # check and persist atomically (tlog-witness)
        try:
            state = (
                witness.WitnessState.loads(state_path.read_text(encoding="utf-8"))
                if state_path.is_file()
                else witness.WitnessState()
            )
        except (ValueError, KeyError, TypeError) as exc:
            _err(f"Erreur : état du témoin illisible ({state_path}: {exc})")
            return 2
        source = offline.HttpSource(args.url, client)
        try:
            key_path = state_dir / "log-key"
            if args.log_key:
                vkey = _read_key(args.log_key)
            elif key_path.is_file():
                vkey = key_path.read_text(encoding="utf-8").strip()
            else:
                vkey = source.key()  # trust on first use, pinned below
            note.Verifier(vkey)
            if not key_path.is_file():
                key_path.write_text(vkey + "\n", encoding="utf-8")
            signed = source.checkpoint()
            try:
                origin, size, _ = note.parse_checkpoint(note.note_text(signed))
                old = state.size(origin)
            except note.NoteError:
                origin, size, old = "", 0, 0  # the witness function answers 400
            proof = source.consistency_proof(old, size) if 0 < old < size else []
        except (offline.SourceError, offline.VerificationFailed, note.NoteError) as exc:
            _err(f"Erreur : {exc}")
            return 2
        try:
            body = witness.add_checkpoint_body(old, proof, signed)
        except ValueError as exc:
            _err(f"Erreur : {exc}")
            return 2
        result = witness.witness_add_checkpoint(state, body, signer, vkey)
        if not result.ok:
            evidence = state_dir / "refused"
            evidence.mkdir(exist_ok=True)
            (evidence / f"{time.strftime('%Y%m%dT%H%M%S')}-{result.status}.txt").write_bytes(body)
            _err(f"REFUS du témoin (HTTP {result.status}) : {result.text.strip()}")
            return 1
        _write_atomic(state_path, result.state.dumps())  # persisted before the cosignature leaves
        _write_atomic(
            state_dir / "checkpoint", note.append_signatures(signed, result.text.splitlines())
        )
    import httpx

    text = note.note_text(signed)
    try:
        r = source.client.post(
            source.base + "/witness",
            content=(text + "\n" + result.text).encode("utf-8"),
            headers={"Content-Type": "text/plain; charset=utf-8"},
        )
    except httpx.HTTPError as exc:
        _err(f"Erreur : envoi de la cosignature : {exc}")
        return 2
    if r.status_code != 200:
        _err(
            f"Erreur : la plateforme refuse la cosignature (HTTP {r.status_code}) : {r.text[:300]}"
        )
        return 2
    what = f"depuis la taille {old}" if old else "premier point de contrôle vu"
    print(
        f"Point de contrôle {origin} de taille {size} cosigné par {signer.name} ({what}) et envoyé."
    )
    return 0


def cmd_recover(args: argparse.Namespace, client: Any = None) -> int:
    """Without option: diagnose (exit 0 when consistent, 1 when diverged)."""
    from pacte.startup import setup

    setup()
    from pacte.engines import offline_verifier as offline
    from pacte.journal import recovery

    if args.witness:
        signed = recovery.fetch_witness_checkpoint(args.witness, client)
        changed = recovery.adopt_witness_checkpoint(signed)
        print(
            "Mémoire avancée au point de contrôle cosigné par le témoin."
            if changed
            else "La mémoire connaît déjà ce point de contrôle (ou un plus grand)."
        )
    elif args.from_export or args.from_url:
        try:
            source: offline.Source = (
                offline.DirSource(args.from_export)
                if args.from_export
                else offline.HttpSource(args.from_url, client)
            )
        except offline.SourceError as exc:
            _err(f"Erreur : {exc}")
            return 2
        n = recovery.reappend(source)
        print(
            f"{n} entrée(s) publiée(s) ré-ajoutée(s) : la base rejoint le point de contrôle signé. "
            "Les données métier créées après la sauvegarde ne sont pas restaurées : ressaisissez-les."
        )
    elif args.accept_new_origin:
        cp = recovery.accept_new_origin(args.accept_new_origin)
        print(
            f"Nouveau journal « {cp.note.splitlines()[0]} » : premier point de contrôle de taille {cp.size}. "
            "Prévenez les témoins et les moniteurs (nouvelle origine, nouvelle clé de vérification)."
        )
    d = recovery.diagnose()
    for line in d.lines():
        print(line)
    return 0 if d.ok else 1


def cmd_witness_push(args: argparse.Namespace, client: Any = None) -> int:
    """The LOG side of c2sp.org/tlog-witness: submit the latest checkpoint to each witness
    (old size 0 first; on 409 the witness tells the size it cosigned, then the consistency
    proof from that size), store the cosignature(s) returned."""
    from pacte.startup import setup

    setup()
    import httpx

    from pacte.engines import note, witness
    from pacte.errors import DomainError
    from pacte.journal import services

    client = client or httpx.Client(timeout=30.0)
    cp = services.latest_checkpoint()
    text = note.note_text(cp.note)
    status = 0
    for prefix in args.to:
        url = prefix.rstrip("/") + "/add-checkpoint"
        old = 0
        proof: list[bytes] = []
        try:
            for _ in range(2):
                r = client.post(url, content=witness.add_checkpoint_body(old, proof, cp.note))
                if r.status_code == 409 and r.headers.get("content-type", "").startswith(
                    witness.CONTENT_TYPE_SIZE
                ):
                    known = int(r.text.strip())
                    if known > cp.size:
                        raise DomainError(
                            f"le témoin a déjà cosigné la taille {known}, plus grande que la base ({cp.size}) : la base "
                            "est en retard sur le journal publié ; lancez `pacte log recover`."
                        )
                    old = known
                    proof = (
                        [bytes.fromhex(h) for h in services.consistency(old, cp.size)["proof"]]
                        if 0 < old < cp.size
                        else []
                    )
                    continue
                break
            if r.status_code != 200:
                raise DomainError(f"HTTP {r.status_code} : {r.text.strip()[:300]}")
            saved = services.add_cosignature(text + "\n" + r.text)
        except (httpx.HTTPError, ValueError, DomainError) as exc:
            msg = exc.message if isinstance(exc, DomainError) else str(exc)
            _err(f"Erreur : témoin {prefix} : {msg}")
            status = 1
            continue
        names = ", ".join(c.witness.name for c in saved)
        print(f"Point de contrôle de taille {cp.size} cosigné par {names} ({prefix}).")
    return status
