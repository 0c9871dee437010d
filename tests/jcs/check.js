// Independent check of Pacte's canonical JSON and signatures, in JavaScript.
// stdin: {"items": [{"json": "<any JSON text>", "public_key": "<hex>"?, "signature": "<hex>"?}]}
// stdout: [{"canonical": "<RFC 8785 text by canonicalize>", "sha256": "<hex>",
//           "leaf_hash": "<hex of SHA-256(0x00 || bytes), RFC 6962>", "signature_valid": true|false|null}]
'use strict';
const crypto = require('crypto');
const canonicalize = require('canonicalize');

function ed25519Verify(publicHex, signatureHex, message) {
  const key = crypto.createPublicKey({
    key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(publicHex, 'hex').toString('base64url') },
    format: 'jwk',
  });
  return crypto.verify(null, message, key, Buffer.from(signatureHex, 'hex'));
}

let input = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk) => { input += chunk; });
process.stdin.on('end', () => {
  const out = JSON.parse(input).items.map((item) => {
    const text = canonicalize(JSON.parse(item.json));
    const bytes = Buffer.from(text, 'utf8');
    const digest = crypto.createHash('sha256').update(bytes).digest();
    const leaf = crypto.createHash('sha256').update(Buffer.concat([Buffer.from([0]), bytes])).digest();
    const signed = item.public_key ? ed25519Verify(item.public_key, item.signature, digest) : null;
    return { canonical: text, sha256: digest.toString('hex'), leaf_hash: leaf.toString('hex'), signature_valid: signed };
  });
  process.stdout.write(JSON.stringify(out));
});
