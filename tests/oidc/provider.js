// A real OpenID Connect provider (the certified `oidc-provider` package) for Pacte's sign-in
// tests, configured as FranceConnect and ProConnect document their flows: authorization code,
// `state` and `nonce`, acr_values "eidas1", signed ID tokens and userinfo (ES256 for
// FranceConnect, RS256 for ProConnect), logout at end_session_endpoint with id_token_hint.
//
//   node provider.js PACTE_BASE_URL
//
// Listens on a free port of 127.0.0.1 and prints one JSON line: {"issuer": "http://127.0.0.1:N"}.
// The sign-in page is ours (not the package's development pages): one field for the test
// account, so that the login result can carry the acr the federation would assert.
import http from 'node:http';
import { generateKeyPair, exportJWK } from 'jose';
import Provider from 'oidc-provider';

const pacte = (process.argv[2] || 'http://127.0.0.1:8000').replace(/\/$/, '');

// The test people. FranceConnect gives the "identité pivot"; ProConnect the agent's identity.
const ACCOUNTS = {
  'fc-angela': {
    given_name: 'Angela Claire Louise', family_name: 'DUBOIS', birthdate: '1962-08-24',
    email: 'angela.dubois@example.org', email_verified: true,
  },
  'fc-unverified': {
    given_name: 'Paul', family_name: 'NONVERIFIE', birthdate: '1990-01-01',
    email: 'existant@example.org', email_verified: false,
  },
  'pc-agent': {
    given_name: 'Jean', usual_name: 'AGENT', email: 'jean.agent@agence.example.gouv.fr',
    email_verified: true, siret: '13000548100010', uid: 'agent-42',
  },
};

async function key(alg, options) {
  const { privateKey } = await generateKeyPair(alg, { extractable: true, ...options });
  return { ...(await exportJWK(privateKey)), alg, use: 'sig', kid: `test-${alg}` };
}

const page = (title, body) => `<!doctype html><html lang="fr"><head><meta charset="utf-8"><title>${title}</title></head><body><main><h1>${title}</h1>${body}</main></body></html>`;

const server = http.createServer();
server.listen(0, '127.0.0.1', async () => {
  const { port } = server.address();
  const issuer = `http://127.0.0.1:${port}`;
  const client = (id, provider, alg) => ({
    client_id: id,
    client_secret: `${id}-secret`,
    redirect_uris: [`${pacte}/compte/oidc/${provider}/login/callback/`],
    post_logout_redirect_uris: [`${pacte}/`],
    response_types: ['code'],
    grant_types: ['authorization_code'],
    token_endpoint_auth_method: 'client_secret_post',
    id_token_signed_response_alg: alg,
    userinfo_signed_response_alg: alg,
  });
  const provider = new Provider(issuer, {
    clients: [client('pacte-franceconnect', 'franceconnect', 'ES256'), client('pacte-proconnect', 'proconnect', 'RS256')],
    jwks: { keys: [await key('ES256'), await key('RS256', { modulusLength: 2048 })] },
    acrValues: ['eidas1', 'eidas2', 'eidas3'],
    scopes: ['openid', 'email', 'given_name', 'family_name', 'birthdate', 'usual_name', 'siret', 'uid'],
    claims: {
      email: ['email', 'email_verified'], given_name: ['given_name'], family_name: ['family_name'],
      birthdate: ['birthdate'], usual_name: ['usual_name'], siret: ['siret'], uid: ['uid'],
    },
    async findAccount(ctx, sub) {
      if (!ACCOUNTS[sub]) return undefined;
      return { accountId: sub, async claims() { return { sub, ...ACCOUNTS[sub] }; } };
    },
    features: {
      devInteractions: { enabled: false },
      jwtUserinfo: { enabled: true },
      rpInitiatedLogout: { enabled: true },
    },
    pkce: { required: () => false },
    interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
    cookies: { keys: ['pacte-test-cookie-key'] },
    ttl: { Session: 3600, Grant: 3600, Interaction: 600, AccessToken: 600, AuthorizationCode: 60, IdToken: 600 },
  });
  provider.proxy = false;
  const op = provider.callback();

  server.on('request', async (req, res) => {
    const url = new URL(req.url, issuer);
    const match = url.pathname.match(/^\/interaction\/([^/]+)(\/login)?$/);
    if (!match) return op(req, res);
    try {
      const details = await provider.interactionDetails(req, res);
      if (req.method === 'GET') {
        res.setHeader('Content-Type', 'text/html; charset=utf-8');
        res.end(page('Fournisseur d\'identité de test', `
          <p>Application : ${details.params.client_id} — niveau demandé : ${details.params.acr_values || '—'}</p>
          <form method="post" action="/interaction/${details.uid}/login">
            <label for="account">Compte de test</label>
            <input id="account" name="account" autocomplete="off">
            <button type="submit">Continuer</button>
          </form>`));
        return;
      }
      const form = new URLSearchParams(await new Promise((resolve) => {
        let data = ''; req.on('data', (c) => { data += c; }); req.on('end', () => resolve(data));
      }));
      const accountId = form.get('account');
      if (!ACCOUNTS[accountId]) {
        res.statusCode = 400; res.end(page('Compte inconnu', '<p>Ce compte de test n\'existe pas.</p>')); return;
      }
      const grant = new provider.Grant({ accountId, clientId: details.params.client_id });
      grant.addOIDCScope(details.params.scope);
      const acr = String(details.params.acr_values || 'eidas1').split(' ')[0];
      await provider.interactionFinished(req, res, {
        login: { accountId, acr, amr: ['pwd'] },
        consent: { grantId: await grant.save() },
      }, { mergeWithLastSubmission: false });
    } catch (err) {
      res.statusCode = 400;
      res.end(page('Erreur', `<p>${String(err.message).replace(/</g, '&lt;')}</p>`));
    }
  });
  process.stdout.write(`${JSON.stringify({ issuer })}\n`);
});

process.on('SIGTERM', () => server.close(() => process.exit(0)));
