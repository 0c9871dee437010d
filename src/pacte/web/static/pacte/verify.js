/* Pacte — checking signatures and the transparency log in the browser itself.
 *
 * Everything is recomputed here with WebCrypto (SHA-256 and Ed25519): the script
 * downloads the exact bytes the server publishes (the canonical text of a pact
 * version, a log entry, a signed checkpoint, an inclusion proof) and trusts none of
 * the hashes or verdicts the server computed.  It never re-canonicalises anything:
 * it hashes the bytes as served.
 *
 * Pact signatures: Ed25519 over the raw 32-byte SHA-256 digest of the canonical text.
 * Log entries: leaf hash SHA-256(0x00 || entry), RFC 9162 §2.1.3.2 inclusion proof to
 * the root of a C2SP checkpoint signed as a signed note (c2sp.org/signed-note).
 *
 * Loaded with <script src defer>; no inline code (strict CSP "script-src 'self'").
 */
"use strict";

(function () {
  const MESSAGES = {
    fr: {
      running: "Vérification en cours…",
      noCrypto: "Votre navigateur ne donne pas accès à la cryptographie WebCrypto (page non sécurisée ou navigateur trop ancien). Utilisez la méthode « Vérifier vous-même » ci-dessous.",
      noEd25519: "Votre navigateur ne sait pas vérifier les signatures Ed25519. Mettez-le à jour, ou utilisez la méthode « Vérifier vous-même » ci-dessous.",
      http: "Téléchargement impossible de {0} (réponse {1}).",
      network: "Téléchargement impossible de {0} : {1}",
      canonical: "Texte canonique téléchargé ({0} octets) ; empreinte SHA-256 calculée par votre navigateur : {1}",
      sigValid: "{0} : valide — l'empreinte signée est bien celle du texte téléchargé et la signature Ed25519 correspond à la clé publique.",
      sigDigest: "{0} : invalide — l'empreinte signée ({1}) n'est pas celle du texte téléchargé ({2}) : le texte a changé depuis la signature.",
      sigBad: "{0} : invalide — la signature Ed25519 ne correspond pas à la clé publique affichée pour cette empreinte.",
      sigMalformed: "{0} : invalide — clé publique ou signature mal formée.",
      pactAllValid: "Résultat : les {0} signatures sont valides.",
      pactOneValid: "Résultat : la signature est valide.",
      pactInvalid: "Résultat : au moins une signature est invalide.",
      cpFetched: "Point de contrôle signé téléchargé : arbre de {0} entrées, racine {1}.",
      cpMalformed: "Le point de contrôle téléchargé est mal formé : {0}",
      keyOk: "Clé du journal « {0} » : son identifiant {1} est bien SHA-256(nom ‖ 0x0A ‖ 0x01 ‖ clé)[:4]. Comparez cette clé avec celle que publient les témoins : {2}",
      keyBad: "Clé du journal mal formée ou identifiant incohérent : {0}",
      cpSigValid: "Signature Ed25519 du point de contrôle par « {0} » : valide.",
      cpSigInvalid: "Signature Ed25519 du point de contrôle par « {0} » : invalide — le point de contrôle a été modifié ou n'a pas été signé par cette clé.",
      cpSigMissing: "Aucune signature du point de contrôle par la clé « {0} » ({1}) : invalide.",
      entryFetched: "Texte de l'entrée n° {0} téléchargé ({1} octets) ; empreinte de feuille SHA-256(0x00 ‖ texte) : {2}",
      entryMissing: "L'entrée n° {0} n'a pas été trouvée dans le journal publié.",
      proofFetched: "Preuve d'inclusion téléchargée : {0} empreintes voisines, pour un arbre de {1} entrées.",
      proofOk: "Racine recalculée à partir de la feuille et du chemin d'audit (RFC 9162 §2.1.3.2) : {0} — identique à la racine signée.",
      proofBad: "Racine recalculée : {0} — différente de la racine signée {1} : invalide.",
      proofShape: "Preuve d'inclusion invalide : {0}",
      logValid: "Résultat : valide — l'entrée n° {0} est inscrite dans le journal, à cette position, sous un point de contrôle signé.",
      logInvalid: "Résultat : invalide — la vérification a échoué à l'étape signalée ci-dessus.",
      tooLong: "chemin trop long",
      tooShort: "chemin trop court",
      badHash: "empreinte mal formée",
      valid: "valide",
      invalid: "invalide",
    },
    en: {
      running: "Checking…",
      noCrypto: "Your browser does not give access to WebCrypto (insecure page or old browser). Use the “check it yourself” method below.",
      noEd25519: "Your browser cannot check Ed25519 signatures. Update it, or use the “check it yourself” method below.",
      http: "Could not download {0} (status {1}).",
      network: "Could not download {0}: {1}",
      canonical: "Canonical text downloaded ({0} bytes); SHA-256 digest computed by your browser: {1}",
      sigValid: "{0}: valid — the signed digest is the digest of the downloaded text and the Ed25519 signature matches the public key.",
      sigDigest: "{0}: invalid — the signed digest ({1}) is not the digest of the downloaded text ({2}): the text changed after signing.",
      sigBad: "{0}: invalid — the Ed25519 signature does not match the public key shown for this digest.",
      sigMalformed: "{0}: invalid — malformed public key or signature.",
      pactAllValid: "Result: all {0} signatures are valid.",
      pactOneValid: "Result: the signature is valid.",
      pactInvalid: "Result: at least one signature is invalid.",
      cpFetched: "Signed checkpoint downloaded: tree of {0} entries, root {1}.",
      cpMalformed: "The downloaded checkpoint is malformed: {0}",
      keyOk: "Log key “{0}”: its id {1} is indeed SHA-256(name ‖ 0x0A ‖ 0x01 ‖ key)[:4]. Compare this key with the one witnesses publish: {2}",
      keyBad: "Malformed log key or inconsistent key id: {0}",
      cpSigValid: "Ed25519 signature of the checkpoint by “{0}”: valid.",
      cpSigInvalid: "Ed25519 signature of the checkpoint by “{0}”: invalid — the checkpoint was altered or not signed by this key.",
      cpSigMissing: "No checkpoint signature by key “{0}” ({1}): invalid.",
      entryFetched: "Text of entry no. {0} downloaded ({1} bytes); leaf hash SHA-256(0x00 ‖ text): {2}",
      entryMissing: "Entry no. {0} was not found in the published log.",
      proofFetched: "Inclusion proof downloaded: {0} sibling hashes, for a tree of {1} entries.",
      proofOk: "Root recomputed from the leaf and the audit path (RFC 9162 §2.1.3.2): {0} — same as the signed root.",
      proofBad: "Recomputed root: {0} — differs from the signed root {1}: invalid.",
      proofShape: "Invalid inclusion proof: {0}",
      logValid: "Result: valid — entry no. {0} is in the log, at this position, under a signed checkpoint.",
      logInvalid: "Result: invalid — the check failed at the step marked above.",
      tooLong: "path too long",
      tooShort: "path too short",
      badHash: "malformed hash",
      valid: "valid",
      invalid: "invalid",
    },
  };
  const lang = (document.documentElement.lang || "fr").slice(0, 2) === "en" ? "en" : "fr";

  function t(key, ...args) {
    let s = MESSAGES[lang][key] || MESSAGES.fr[key];
    args.forEach((a, i) => { s = s.split("{" + i + "}").join(String(a)); });
    return s;
  }

  // ------------------------------------------------------------------ bytes

  const enc = new TextEncoder();

  function hexToBytes(hex) {
    if (typeof hex !== "string" || !/^(?:[0-9a-fA-F]{2})*$/.test(hex)) throw new Error(t("badHash"));
    const out = new Uint8Array(hex.length / 2);
    for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.substr(2 * i, 2), 16);
    return out;
  }

  function toHex(bytes) {
    return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  }

  function b64ToBytes(s) {
    const bin = atob(s); // throws on invalid base64
    return Uint8Array.from(bin, (c) => c.charCodeAt(0));
  }

  function concat(...parts) {
    const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let o = 0;
    for (const p of parts) { out.set(p, o); o += p.length; }
    return out;
  }

  function same(a, b) {
    if (a.length !== b.length) return false;
    let d = 0;
    for (let i = 0; i < a.length; i++) d |= a[i] ^ b[i];
    return d === 0;
  }

  async function sha256(bytes) {
    return new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  }

  class Unsupported extends Error {} // this browser cannot check: not a verdict
  class FetchFailed extends Error {} // nothing to check: not a verdict either

  async function ed25519Verify(publicKey, signature, message) {
    let key;
    try {
      key = await crypto.subtle.importKey("raw", publicKey, { name: "Ed25519" }, false, ["verify"]);
    } catch (e) {
      if (e && e.name === "NotSupportedError") throw new Unsupported(t("noEd25519"));
      throw e; // a malformed key (DataError)
    }
    return crypto.subtle.verify({ name: "Ed25519" }, key, signature, message);
  }

  async function fetchBytes(url) {
    let r;
    try {
      r = await fetch(url, { cache: "no-store", credentials: "same-origin" });
    } catch (e) {
      throw new FetchFailed(t("network", url, e.message));
    }
    if (!r.ok) throw new FetchFailed(t("http", url, r.status));
    return new Uint8Array(await r.arrayBuffer());
  }

  async function fetchText(url) {
    return new TextDecoder("utf-8", { fatal: true }).decode(await fetchBytes(url));
  }

  // ------------------------------------------------------------------ report

  function report(region) {
    region.replaceChildren();
    const list = document.createElement("ol");
    list.className = "verify-steps";
    region.append(list);
    return {
      step(text, ok, data) {
        const li = document.createElement("li");
        if (ok !== undefined) {
          li.className = ok ? "ok-step" : "ko-step";
          li.dataset.result = ok ? "valide" : "invalide";
          const mark = document.createElement("span");
          mark.className = ok ? "ok" : "ko";
          mark.textContent = ok ? "✔ " : "✘ ";
          mark.setAttribute("aria-hidden", "true");
          li.append(mark);
        }
        if (data) Object.assign(li.dataset, data);
        li.append(document.createTextNode(text));
        list.append(li);
        return li;
      },
      result(text, ok) {
        // ok: true (valid), false (invalid), null (could not be checked here)
        const p = document.createElement("p");
        p.className = "verify-result-line " + (ok === null ? "" : ok ? "ok" : "ko");
        p.dataset.outcome = ok === null ? "non-verifie" : ok ? "valide" : "invalide";
        p.textContent = (ok === null ? "⚠ " : ok ? "✔ " : "✘ ") + text;
        region.append(p);
      },
    };
  }

  function supported(out) {
    if (!window.crypto || !crypto.subtle) {
      out.result(t("noCrypto"), null);
      return false;
    }
    return true;
  }

  async function run(button, region, work) {
    if (button.getAttribute("aria-busy") === "true") return; // already running (stays focusable)
    button.setAttribute("aria-busy", "true");
    const out = report(region);
    const busy = document.createElement("p");
    busy.textContent = t("running");
    region.append(busy);
    try {
      if (supported(out)) await work(out);
    } catch (e) {
      busy.remove();
      out.result(e instanceof Error ? e.message : String(e), e instanceof Unsupported || e instanceof FetchFailed ? null : false);
    } finally {
      busy.remove();
      button.removeAttribute("aria-busy");
    }
  }

  // ------------------------------------------------------- pact signatures

  async function verifyPact(block, out) {
    const button = block.querySelector("[data-verify-pact]");
    const canonical = await fetchBytes(button.dataset.canonicalUrl);
    const digest = await sha256(canonical);
    const digestHex = toHex(digest);
    out.step(t("canonical", canonical.length, digestHex));
    const items = block.querySelectorAll("[data-pact-signature]");
    let valid = 0;
    for (const item of items) {
      const who = item.dataset.signer;
      const signedDigest = (item.dataset.digest || "").toLowerCase();
      if (signedDigest !== digestHex) {
        out.step(t("sigDigest", who, signedDigest, digestHex), false, { check: "signature" });
        continue;
      }
      let ok;
      try {
        ok = await ed25519Verify(hexToBytes(item.dataset.publicKey), hexToBytes(item.dataset.signature), digest);
      } catch (e) {
        if (e instanceof Unsupported) throw e;
        out.step(t("sigMalformed", who), false, { check: "signature" });
        continue;
      }
      out.step(t(ok ? "sigValid" : "sigBad", who), ok, { check: "signature" });
      if (ok) valid += 1;
    }
    const all = valid === items.length && items.length > 0;
    out.result(all ? (items.length === 1 ? t("pactOneValid") : t("pactAllValid", items.length)) : t("pactInvalid"), all);
  }

  // ------------------------------------------------------------ the log

  // RFC 9162 §2.1.3.2, with BigInt so that indexes above 2^31 stay exact.
  async function rootFromInclusion(leaf, index, size, path) {
    if (index >= size) throw new Error(t("proofShape", "index ≥ size"));
    let fn = BigInt(index);
    let sn = BigInt(size) - 1n;
    let r = leaf;
    const one = new Uint8Array([1]);
    for (const p of path) {
      if (p.length !== 32) throw new Error(t("proofShape", t("badHash")));
      if (sn === 0n) throw new Error(t("proofShape", t("tooLong")));
      if ((fn & 1n) === 1n || fn === sn) {
        r = await sha256(concat(one, p, r));
        if ((fn & 1n) === 0n) {
          while (fn !== 0n && (fn & 1n) === 0n) { fn >>= 1n; sn >>= 1n; }
        }
      } else {
        r = await sha256(concat(one, r, p));
      }
      fn >>= 1n;
      sn >>= 1n;
    }
    if (sn !== 0n) throw new Error(t("proofShape", t("tooShort")));
    return r;
  }

  function parseVerifierKey(text) {
    // name+hex8+base64: the name has no "+", but base64 may (split on the first two only)
    const m = /^([^+\s]+)\+([0-9a-f]{8})\+([A-Za-z0-9+/]+={0,2})$/.exec(text.trim());
    if (!m) throw new Error(t("keyBad", text));
    const parts = m.slice(1);
    const raw = b64ToBytes(parts[2]);
    if (raw.length !== 33 || raw[0] !== 0x01) throw new Error(t("keyBad", text));
    return { name: parts[0], id: parts[1], publicKey: raw.slice(1), text: text.trim() };
  }

  function splitNote(signed) {
    const cut = signed.lastIndexOf("\n\n");
    if (cut < 0 || !signed.endsWith("\n")) throw new Error(t("cpMalformed", "signed note"));
    const body = signed.slice(0, cut + 1);
    const lines = signed.slice(cut + 2).split("\n").slice(0, -1);
    const sigs = lines.map((line) => {
      const m = /^\u2014 (\S+) (\S+)$/.exec(line);
      if (!m) throw new Error(t("cpMalformed", line));
      return { name: m[1], raw: b64ToBytes(m[2]) };
    });
    return { body, sigs };
  }

  function parseCheckpoint(body) {
    const lines = body.slice(0, -1).split("\n");
    if (lines.length < 3 || !/^(0|[1-9][0-9]*)$/.test(lines[1])) throw new Error(t("cpMalformed", "size"));
    const root = b64ToBytes(lines[2]);
    if (root.length !== 32) throw new Error(t("cpMalformed", "root"));
    return { origin: lines[0], size: Number(lines[1]), root };
  }

  async function verifyEntry(button, out) {
    const base = button.dataset.apiBase;
    const index = Number(button.dataset.index);
    let ok = true;

    // 1. the signed checkpoint and the log key
    const signed = await fetchText(base + "/checkpoint");
    const { body, sigs } = splitNote(signed);
    const cp = parseCheckpoint(body);
    out.step(t("cpFetched", cp.size, toHex(cp.root)));
    const key = parseVerifierKey(await fetchText(base + "/key"));
    const id = (await sha256(concat(enc.encode(key.name), new Uint8Array([0x0a, 0x01]), key.publicKey))).slice(0, 4);
    if (toHex(id) !== key.id) throw new Error(t("keyBad", key.text));
    out.step(t("keyOk", key.name, key.id, key.text), true);

    // 2. its signature (signed note: Ed25519 over the UTF-8 text, key id first)
    const mine = sigs.find((s) => s.name === key.name && s.raw.length === 68 && same(s.raw.slice(0, 4), id));
    if (!mine) {
      out.step(t("cpSigMissing", key.name, key.id), false);
      ok = false;
    } else {
      const good = await ed25519Verify(key.publicKey, mine.raw.slice(4), enc.encode(body));
      out.step(t(good ? "cpSigValid" : "cpSigInvalid", key.name), good);
      ok = ok && good;
    }

    // 3. the entry's exact bytes and its leaf hash
    const page = JSON.parse(await fetchText(`${base}/entries?start=${index}&end=${index + 1}`));
    const item = (page.items || []).find((e) => e.index === index);
    if (!item || typeof item.entry !== "string") throw new Error(t("entryMissing", index));
    const entry = enc.encode(item.entry);
    const leaf = await sha256(concat(new Uint8Array([0]), entry));
    out.step(t("entryFetched", index, entry.length, toHex(leaf)));

    // 4. the audit path, walked up to the signed root
    const proof = JSON.parse(await fetchText(`${base}/proof/inclusion?index=${index}&size=${cp.size}`));
    const path = (proof.proof || []).map(hexToBytes);
    out.step(t("proofFetched", path.length, cp.size));
    let root;
    try {
      root = await rootFromInclusion(leaf, index, cp.size, path);
    } catch (e) {
      out.step(e.message, false);
      ok = false;
    }
    if (root) {
      const match = same(root, cp.root);
      out.step(match ? t("proofOk", toHex(root)) : t("proofBad", toHex(root), toHex(cp.root)), match);
      ok = ok && match;
    }
    out.result(ok ? t("logValid", index) : t("logInvalid"), ok);
  }

  // ------------------------------------------------------------ wiring

  function regionFor(button) {
    return document.getElementById(button.getAttribute("aria-controls"));
  }

  for (const button of document.querySelectorAll("[data-verify-pact]")) {
    button.addEventListener("click", () => {
      const block = button.closest("[data-verify-block]");
      run(button, regionFor(button), (out) => verifyPact(block, out));
    });
  }
  for (const button of document.querySelectorAll("[data-verify-log]")) {
    button.addEventListener("click", () => run(button, regionFor(button), (out) => verifyEntry(button, out)));
  }
})();
